/**
 * Every failure the library reports is an InferenceError: an Error carrying the
 * Elasticsearch exception `type` (snake_case), the human `reason` and the HTTP
 * `status` Elasticsearch would answer with.
 */
export class InferenceError extends Error {
  readonly type: string;
  readonly reason: string;
  readonly status: number;

  constructor(type: string, reason: string, status: number, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'InferenceError';
    this.type = type;
    this.reason = reason;
    this.status = status;
  }

  toJSON(): { type: string; reason: string; status: number } {
    return { type: this.type, reason: this.reason, status: this.status };
  }
}

/** Error types used across the library (Elasticsearch-style snake_case). */
export const ErrorType = {
  status: 'status_exception',
  incompleteStream: 'incomplete_stream',
  parse: 'parse_exception',
  frame: 'frame_exception',
  illegalState: 'illegal_state_exception',
  illegalArgument: 'illegal_argument_exception',
  validation: 'action_request_validation_exception',
  notFound: 'resource_not_found_exception',
  alreadyExists: 'resource_already_exists_exception',
  xContentParse: 'x_content_parse_exception',
  security: 'security_exception',
  tooManyRequests: 'es_rejected_execution_exception',
  timeout: 'timeout_exception',
} as const;

export function incompleteStream(reason: string): InferenceError {
  return new InferenceError(ErrorType.incompleteStream, reason, 500);
}

/** A provider event whose payload is not the JSON it should be (Elasticsearch: `x_content_parse_exception`). */
export function malformedEvent(what: string, cause?: unknown): InferenceError {
  return new InferenceError(
    ErrorType.xContentParse,
    `Failed to parse event from inference provider: ${what}`,
    500,
    { cause },
  );
}

/** Any thrown value becomes an InferenceError without leaking a stack or an unknown shape. */
export function toInferenceError(err: unknown): InferenceError {
  if (err instanceof InferenceError) return err;
  const e = err as { type?: unknown; reason?: unknown; status?: unknown; message?: unknown } | null;
  if (e && typeof e.type === 'string' && typeof e.reason === 'string' && typeof e.status === 'number') {
    return new InferenceError(e.type, e.reason, e.status, { cause: err });
  }
  const message = e && typeof e.message === 'string' ? e.message : String(err);
  return new InferenceError(ErrorType.illegalState, message, 500, { cause: err });
}

/** Elasticsearch's error body: `{"error":{"root_cause":[…],"type":…,"reason":…},"status":N}`. */
export function errorBody(err: InferenceError): {
  error: { root_cause: { type: string; reason: string }[]; type: string; reason: string };
  status: number;
} {
  return {
    error: {
      root_cause: [{ type: err.type, reason: err.reason }],
      type: err.type,
      reason: err.reason,
    },
    status: err.status,
  };
}

/**
 * The HTTP status Elasticsearch reports for an upstream HTTP status:
 * below 500 it is kept, 500 and above become 400 (BaseResponseHandler.toRestStatus).
 */
export function restStatusFor(upstream: number): number {
  if (!Number.isInteger(upstream) || upstream < 100 || upstream > 599) return 500;
  return upstream >= 500 ? 400 : upstream;
}

/** Elasticsearch's message prefix for a failed upstream status (BaseResponseHandler). */
export function upstreamStatusPhrase(status: number): string {
  if (status === 429) return 'Received a rate limit status code';
  if (status === 503) return 'Received a server busy error status code';
  if (status >= 500) return 'Received a server error status code';
  if (status === 401) return 'Received an authentication error status code';
  if (status === 403) return 'Received a permission denied error status code';
  if (status === 404) return 'Received a resource not found status code';
  if (status === 413) return 'Received a content too large status code';
  if (status === 400) return 'Received a bad request status code';
  if (status === 405) return 'Received a method not allowed status code';
  if (status >= 300 && status < 400) return 'Unhandled redirection';
  return 'Received an unsuccessful status code';
}

/** One error for a non-2xx upstream answer, in Elasticsearch's words. */
export function upstreamStatusError(
  status: number,
  providerMessage: string | undefined,
  inferenceId?: string,
): InferenceError {
  const who = inferenceId ? ` from inference entity id [${inferenceId}]` : '';
  const tail = providerMessage ? `. Error message: [${providerMessage}]` : '';
  return new InferenceError(
    ErrorType.status,
    `${upstreamStatusPhrase(status)} for request${who} status [${status}]${tail}`,
    restStatusFor(status),
  );
}
