/**
 * The library's one error module: the error class, every error type, and a named
 * constructor for every error the library reports. Code elsewhere never calls
 * `new InferenceError(…)` nor writes a type string: it throws one of these.
 */

/** Every error type the library reports, as Elasticsearch spells it (snake_case). */
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
  contentTooLong: 'content_too_long_exception',
  headerTooLong: 'too_long_http_header_exception',
  mediaType: 'media_type_header_exception',
  noHandler: 'no_handler_found_exception',
  methodNotAllowed: 'method_not_allowed_exception',
  nodeClosed: 'node_closed_exception',
  /** The shared endpoint registry (Redis) cannot be reached: endpoints cannot be changed now (503). */
  registryUnavailable: 'cluster_block_exception',
} as const;

/** One of the type strings of {@link ErrorType}. */
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

const TYPES: ReadonlySet<string> = new Set(Object.values(ErrorType));

/** Whether a string is one of the library's error types. */
export function isErrorType(type: unknown): type is ErrorType {
  return typeof type === 'string' && TYPES.has(type);
}

/**
 * Every failure the library reports is an InferenceError: an Error carrying the
 * Elasticsearch exception `type`, the human `reason` and the HTTP `status`
 * Elasticsearch would answer with.
 */
export class InferenceError extends Error {
  readonly type: ErrorType;
  readonly reason: string;
  readonly status: number;

  /** Prefer the named constructors of this module; this is for subclasses and tests. */
  constructor(type: ErrorType, reason: string, status: number, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'InferenceError';
    this.type = type;
    this.reason = reason;
    this.status = status;
  }

  /** The same error (type and status) with another reason, e.g. with credentials removed. */
  withReason(reason: string): InferenceError {
    return reason === this.reason ? this : new InferenceError(this.type, reason, this.status);
  }

  /** `{type, reason, status}`: what JSON.stringify writes. */
  toJSON(): { type: ErrorType; reason: string; status: number } {
    return { type: this.type, reason: this.reason, status: this.status };
  }
}

/** Any thrown value becomes an InferenceError without leaking a stack or an unknown shape. */
export function toInferenceError(err: unknown): InferenceError {
  if (err instanceof InferenceError) return err;
  const e = err as { type?: unknown; reason?: unknown; status?: unknown; message?: unknown } | null;
  if (e && isErrorType(e.type) && typeof e.reason === 'string' && typeof e.status === 'number') {
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
 * The first `code` on an error or its chain of causes (undici wraps socket errors) that
 * `accept` takes; undefined when there is none.
 */
export function errorCode(err: unknown, accept: (code: string) => boolean = () => true): string | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | null, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string' && accept(e.code)) return e.code;
  }
  return undefined;
}

/** An error's code or first line, never request details that could carry a credential. */
export function safeMessage(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e && typeof e.code === 'string' && e.code.length > 0) return e.code;
  const m = e && typeof e.message === 'string' ? e.message.split('\n')[0]! : 'unknown error';
  return m.length > 200 ? m.slice(0, 200) + '…' : m;
}

/** `30s`, `1500ms`, `10m`: how Elasticsearch prints a time value. */
export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Elasticsearch's validation message: `Validation Failed: 1: first; 2: second;`. */
export function validationFailed(problems: readonly string[]): InferenceError {
  return new InferenceError(
    ErrorType.validation,
    `Validation Failed: ${problems.map((p, i) => `${i + 1}: ${p};`).join(' ')}`,
    400,
  );
}

/** A `status_exception` with Elasticsearch's wording, 400 unless said otherwise. */
export function badRequest(reason: string, status = 400): InferenceError {
  return new InferenceError(ErrorType.status, reason, status);
}

// ---------------------------------------------------------------------------------------
// Reading provider bytes (framing) and events (providers)

/** The provider's stream ended before its end marker, or inside an event. */
export function incompleteStream(reason: string): InferenceError {
  return new InferenceError(ErrorType.incompleteStream, reason, 500);
}

/** One SSE event larger than the framing's limit. */
export function eventTooLarge(limit: number): InferenceError {
  return new InferenceError(
    ErrorType.frame,
    `Inference provider sent an event larger than the limit of ${limit} bytes`,
    500,
  );
}

/** One line (NDJSON) longer than the framing's limit. */
export function lineTooLong(limit: number): InferenceError {
  return new InferenceError(
    ErrorType.frame,
    `Inference provider sent a line longer than the limit of ${limit} bytes`,
    500,
  );
}

/** One JSON value (array element, JSON sequence) larger than the framing's limit. */
export function jsonValueTooLarge(limit: number): InferenceError {
  return new InferenceError(
    ErrorType.frame,
    `Inference provider sent a JSON value larger than the limit of ${limit} bytes`,
    500,
  );
}

/** An AWS event-stream frame that cannot be read (checksum, length, headers). */
export function brokenAwsFrame(what: string, cause?: unknown): InferenceError {
  return new InferenceError(ErrorType.frame, `Broken AWS event stream frame from inference provider: ${what}`, 500, {
    cause,
  });
}

/** A provider event (or streamed JSON array) that is not the JSON it should be: Elasticsearch's `x_content_parse_exception`. */
export function malformedEvent(what: string, cause?: unknown): InferenceError {
  return new InferenceError(ErrorType.xContentParse, `Failed to parse event from inference provider: ${what}`, 500, {
    cause,
  });
}

/**
 * An error the provider reported inside a 200 stream. The reason is the provider's own
 * message alone, as Elasticsearch reports it; `provider` only names it when there is none.
 */
export function providerStreamError(provider: string, message: string, status = 500): InferenceError {
  return new InferenceError(
    ErrorType.status,
    message || `The [${provider}] inference provider reported an error without a message`,
    // the status comes from the provider's payload: only an HTTP error status may become ours
    Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500,
  );
}

/** A provider id that is not one of the known ones. */
export function unknownProvider(id: unknown, known: readonly string[]): InferenceError {
  return new InferenceError(
    ErrorType.illegalArgument,
    `Unknown provider [${String(id)}]; known providers: [${known.join(', ')}]`,
    400,
  );
}

/** The statuses Elasticsearch's `RestStatus` knows. */
const REST_STATUSES: ReadonlySet<number> = new Set([
  100, 101, 200, 201, 202, 203, 204, 205, 206, 207, 300, 301, 302, 303, 304, 305, 307, 400, 401, 402, 403, 404, 405,
  406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 422, 423, 424, 429, 500, 501, 502, 503, 504, 505, 507,
]);

/**
 * The HTTP status Elasticsearch reports for an upstream HTTP status (BaseResponseHandler.toRestStatus):
 * below 500 it is kept when `RestStatus` knows it; 500 and above, and any status it does not
 * know (425, 1000, …), become 400.
 */
export function restStatusFor(upstream: number): number {
  return upstream < 500 && REST_STATUSES.has(upstream) ? upstream : 400;
}

/**
 * One error for a non-2xx upstream answer, in Elasticsearch's words: `phrase` is the
 * provider's wording of the status (see lib/providers/failure.ts), `restStatus` overrides
 * the mapped status where Elasticsearch does (content too large: 413).
 */
export function upstreamStatusError(
  status: number,
  providerMessage: string | undefined,
  inferenceId: string | undefined,
  phrase: string,
  restStatus?: number,
): InferenceError {
  const who = inferenceId ? ` from inference entity id [${inferenceId}]` : '';
  const tail = providerMessage ? `. Error message: [${providerMessage}]` : '';
  return new InferenceError(
    ErrorType.status,
    `${phrase} for request${who} status [${status}]${tail}`,
    restStatus ?? restStatusFor(status),
  );
}

/** The reason for an error event whose payload carries no message (`null`, a number, `{}`); `excerpt` is already bracketed. */
export function errorEventWithoutMessage(provider: string, excerpt: string): string {
  return `The [${provider}] inference provider sent an error event without a message: ${excerpt}`;
}

/** A user hook (`onDelta`, `mapError`, …) threw: the stream ends with this, not as a provider failure. */
export function hookFailed(hook: string, err: unknown): InferenceError {
  const message = err instanceof Error ? err.message : String(err);
  return new InferenceError(ErrorType.illegalState, `The [${hook}] hook threw: ${message}`, 500, { cause: err });
}

// ---------------------------------------------------------------------------------------
// Calling providers

/** A required `service_settings` (or other) setting is absent. */
export function missingSetting(scope: string, key: string): InferenceError {
  return validationFailed([`[${scope}] does not contain the required setting [${key}]`]);
}

/** `service_settings.url` is not a URL. */
export function invalidUrl(given: string): InferenceError {
  return validationFailed([`[service_settings] Invalid url [${given}] received for field [url]`]);
}

/** Credentials could not be made for a provider (service account JSON, token exchange). */
export function providerAuthFailed(reason: string): InferenceError {
  return badRequest(reason);
}

/** The client went away before the provider answered. */
export function requestCancelled(): InferenceError {
  return badRequest('Request to the inference provider was cancelled: the client went away', 499);
}

/** No response headers from the provider in time. */
export function providerTimeout(ms: number): InferenceError {
  return new InferenceError(
    ErrorType.timeout,
    `Request timed out waiting for the inference provider's response after [${formatDuration(ms)}]`,
    408,
  );
}

/** The request could not be sent (connection refused, DNS, TLS …). */
export function sendFailed(inferenceId: string, err: unknown): InferenceError {
  return new InferenceError(
    ErrorType.status,
    `Failed to send request from inference entity id [${inferenceId}]: ${safeMessage(err)}`,
    500,
    { cause: err },
  );
}

/** A provider answered with a redirect: not followed (it could lead anywhere), reported as the provider failing (502). */
export function providerRedirected(status: number, inferenceId: string): InferenceError {
  return new InferenceError(
    ErrorType.status,
    `Unhandled redirection for request from inference entity id [${inferenceId}] status [${status}]`,
    502,
  );
}

/** A provider body in a content-encoding the client cannot decode (502). */
export function unsupportedContentEncoding(inferenceId: string, encoding: string): InferenceError {
  return new InferenceError(
    ErrorType.status,
    `Failed to read the response from inference entity id [${inferenceId}]: content-encoding [${encoding.slice(0, 40)}] is not supported (gzip, deflate and br are)`,
    502,
  );
}

/** The provider's body failed while it was being read. */
export function readFailed(inferenceId: string, err: unknown): InferenceError {
  return new InferenceError(
    ErrorType.status,
    `Failed to read the response from inference entity id [${inferenceId}]: ${safeMessage(err)}`,
    500,
    { cause: err },
  );
}

// ---------------------------------------------------------------------------------------
// Endpoints and registries

/** GET / DELETE / inference on an id that is not stored. */
export function endpointNotFound(id: string): InferenceError {
  return new InferenceError(ErrorType.notFound, `Inference endpoint not found [${id}]`, 404);
}

/** PUT of an id that is stored already. */
export function endpointExists(id: string): InferenceError {
  return new InferenceError(ErrorType.alreadyExists, `Inference endpoint [${id}] already exists`, 400);
}

/** An inference id longer than allowed. */
export function inferenceIdTooLong(id: string, maxLength: number): InferenceError {
  return validationFailed([
    `Invalid inference_id; '${id.slice(0, maxLength)}…' cannot contain more than ${maxLength} characters.`,
  ]);
}

/** An inference id outside Elasticsearch's rules (MlStrings). */
export function invalidInferenceId(id: string): InferenceError {
  return validationFailed([
    `Invalid inference_id; '${id}' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric`,
  ]);
}

/** The registry holds as many endpoints as it may. */
export function tooManyEndpoints(max: number): InferenceError {
  return badRequest(
    `Cannot create another inference endpoint: the limit of [${max}] endpoints is reached; delete one first`,
  );
}

/** A task type in a URL or body that Elasticsearch does not know. */
export function unknownTaskType(taskType: string): InferenceError {
  return badRequest(`Unknown task_type [${taskType}]`);
}

/** `_update` asks to change what an endpoint cannot change (its service or task type). */
export function endpointFieldImmutable(
  id: string,
  field: 'service' | 'task_type',
  current: string,
  asked: unknown,
): InferenceError {
  return badRequest(
    `The ${field} of an inference endpoint cannot be updated: [${id}] has [${current}], the request names [${String(asked)}]`,
  );
}

/** A URL setting with a scheme other than http or https. */
export function invalidUrlScheme(scheme: string, field: string): string {
  return `[service_settings] Invalid url scheme [${scheme.slice(0, 32)}] received for field [${field}]; only http and https are allowed`;
}

/** A provider host outside the server's allow-list (`--allow-hosts`). */
export function hostNotAllowed(host: string, field: string): InferenceError {
  return badRequest(
    `[service_settings] host [${host}] of field [${field}] is not in this server's list of allowed provider hosts (--allow-hosts)`,
  );
}

/** The endpoint file exists but cannot be read. */
export function endpointFileUnreadable(path: string, err: unknown): InferenceError {
  return new InferenceError(
    ErrorType.illegalState,
    `Cannot read endpoint file [${path}]: ${(err as Error).message}`,
    500,
  );
}

/** The endpoint file could not take a change (the change is undone). */
export function endpointFileUnwritable(path: string, err: unknown): InferenceError {
  return new InferenceError(
    ErrorType.illegalState,
    `Cannot write endpoint file [${path}]: ${(err as Error).message}`,
    500,
    { cause: err },
  );
}

/** The endpoint file is not one (left untouched). */
export function invalidEndpointFile(path: string, why: string): InferenceError {
  return new InferenceError(
    ErrorType.illegalState,
    `Endpoint file [${path}] is not a valid endpoint file (${why}); fix or move it, it was not modified`,
    500,
  );
}

/** A change refused because the shared endpoint registry cannot be reached; reads go on from the cache. */
export function registryUnavailable(what: string): InferenceError {
  return new InferenceError(
    ErrorType.registryUnavailable,
    `The endpoint registry is unreachable (${what}); endpoints cannot be changed now, retry later`,
    503,
  );
}

/** The shared endpoint registry cannot be opened at start (never quotes a password). */
export function registryOpenFailed(store: string, why: string): InferenceError {
  return new InferenceError(ErrorType.illegalState, `Cannot open the endpoint registry ${store}: ${why}`, 500);
}

/** The secrets key is missing, malformed or not the one the stored secrets were sealed with (never quotes a key or a secret). */
export function secretsKeyError(reason: string): InferenceError {
  return new InferenceError(ErrorType.illegalArgument, reason, 500);
}

/** An optional package a feature loads on demand is not installed. */
export function packageMissing(pkg: string, feature: string): InferenceError {
  return new InferenceError(ErrorType.illegalState, `${feature} needs the ${pkg} package (npm install ${pkg})`, 500);
}

/** A request the server could not complete (e.g. metrics collection). */
export function internalError(what: string, err: unknown): InferenceError {
  return new InferenceError(ErrorType.illegalState, `${what}: ${safeMessage(err)}`, 500);
}

// ---------------------------------------------------------------------------------------
// HTTP requests, limits and the server

/** An option of the handler or server that is not valid (e.g. a limit). */
export function invalidOption(reason: string): InferenceError {
  return new InferenceError(ErrorType.illegalArgument, reason, 400);
}

/** A request body larger than `maxBodyBytes` (413). */
export function bodyTooLarge(maxBytes: number): InferenceError {
  return new InferenceError(ErrorType.contentTooLong, `Request body is too large: more than [${maxBytes}] bytes`, 413);
}

/** A request head larger than `maxHeaderBytes` (431). */
export function headersTooLarge(maxBytes: number): InferenceError {
  return new InferenceError(ErrorType.headerTooLong, `HTTP header is larger than [${maxBytes}] bytes`, 431);
}

/** A request Node could not parse as HTTP. */
export function unparsableHttp(): InferenceError {
  return new InferenceError(ErrorType.illegalArgument, 'The request could not be parsed as HTTP', 400);
}

/** A request body in a media type other than JSON (406). */
export function unsupportedMediaType(type: string): InferenceError {
  return new InferenceError(ErrorType.mediaType, `Content-Type header [${type}] is not supported`, 406);
}

/** A request body that is not the JSON it should be (Elasticsearch's parser errors). */
export function contentParseError(reason: string): InferenceError {
  return new InferenceError(ErrorType.xContentParse, reason, 400);
}

/** A request body nested deeper than Elasticsearch (Jackson) allows, in Jackson's words after Elasticsearch's `[line:column]`. */
export function nestingTooDeep(line: number, column: number, depth: number, max: number): InferenceError {
  return contentParseError(
    `[${line}:${column}] Document nesting depth (${depth}) exceeds the maximum allowed (${max}, from \`StreamReadConstraints.getMaxNestingDepth()\`)`,
  );
}

/** The request head did not arrive within the headers timeout (408). */
export function requestHeadTimeout(): InferenceError {
  return new InferenceError(ErrorType.timeout, 'Timed out waiting for the request headers', 408);
}

/** A route that needs a body got none. */
export function bodyRequired(): InferenceError {
  return new InferenceError(ErrorType.parse, 'request body is required', 400);
}

/** A time value (`timeout=30s`) that cannot be read. */
export function badTimeValue(setting: string, value: string): InferenceError {
  return new InferenceError(
    ErrorType.parse,
    `failed to parse setting [${setting}] with value [${value}] as a time value: unit is missing or unrecognized`,
    400,
  );
}

/** A path no route takes (404). */
export function noHandler(path: string, method: string): InferenceError {
  return new InferenceError(ErrorType.noHandler, `no handler found for uri [${path}] and method [${method}]`, 404);
}

/** A route that exists, asked with another method (405). */
export function methodNotAllowed(path: string, method: string, allowed: readonly string[]): InferenceError {
  return new InferenceError(
    ErrorType.methodNotAllowed,
    `Incorrect HTTP method for uri [${path}] and method [${method}], allowed: [${allowed.join(', ')}]`,
    405,
  );
}

/** The server is at its concurrent-stream limit (429, before any provider call). */
export function tooManyStreams(max: number): InferenceError {
  return new InferenceError(
    ErrorType.tooManyRequests,
    `rejected execution of inference stream: [${max}] streams are already open, the most this server allows at once; retry later`,
    429,
  );
}

/** The provider sent headers, then no body byte in time. */
export function firstByteTimeout(ms: number): InferenceError {
  return new InferenceError(
    ErrorType.timeout,
    `Timed out after [${formatDuration(ms)}] waiting for the first byte of the inference provider's response body`,
    408,
  );
}

/** The provider went silent mid-stream. */
export function idleTimeout(ms: number): InferenceError {
  return new InferenceError(
    ErrorType.timeout,
    `The inference provider sent nothing for [${formatDuration(ms)}]; the stream was ended`,
    408,
  );
}

/** A stream reached its maximum duration. */
export function streamTooLong(ms: number): InferenceError {
  return new InferenceError(
    ErrorType.timeout,
    `The stream reached its maximum duration of [${formatDuration(ms)}] and was ended`,
    408,
  );
}

/** The non-streaming route collected more than it may hold. */
export function answerTooLarge(inferenceId: string, max: number): InferenceError {
  return badRequest(
    `The answer from inference entity id [${inferenceId}] is longer than [${max}] characters, the most a non-streaming request collects; use _stream`,
    500,
  );
}

/** The server is shutting down (503). */
export function shuttingDown(): InferenceError {
  return new InferenceError(
    ErrorType.nodeClosed,
    'The server is shutting down; the request was ended before the provider finished',
    503,
  );
}

/** The API key file or value is not valid (never quotes a key). */
export function apiKeyConfigError(source: string, why: string): InferenceError {
  return new InferenceError(ErrorType.illegalArgument, `Invalid API key configuration in [${source}]: ${why}`, 500);
}

/** Listening beyond loopback without API keys is refused. */
export function unsafeBinding(host: string, envName: string): InferenceError {
  return new InferenceError(
    ErrorType.illegalState,
    `Refusing to listen on [${host}] without API keys: anyone who can reach it could spend your provider credits. ` +
      `Set ${envName} (one key with both privileges) or --api-keys <file>, or listen on 127.0.0.1.`,
    500,
  );
}

/** The challenge Elasticsearch sends with a 401, for the schemes this server takes. */
export const WWW_AUTHENTICATE = ['ApiKey', 'Bearer realm="security"'] as const;

/**
 * A security_exception that also carries Elasticsearch's `header` member
 * (`{"WWW-Authenticate":[…]}` inside the error body).
 */
export class SecurityError extends InferenceError {
  readonly headers: Record<string, string[]>;
  constructor(reason: string, status: number, headers: Record<string, string[]> = {}) {
    super(ErrorType.security, reason, status);
    this.headers = headers;
  }
}

/** No credentials on a request that needs them (401 with the challenge). */
export function missingCredentials(uri: string): SecurityError {
  return new SecurityError(`missing authentication credentials for REST request [${uri}]`, 401, {
    'WWW-Authenticate': [...WWW_AUTHENTICATE],
  });
}

/** Credentials that match no key (401 with the challenge). */
export function invalidCredentials(): SecurityError {
  return new SecurityError(
    'unable to authenticate with provided credentials and anonymous access is not allowed for this request',
    401,
    {
      'WWW-Authenticate': [...WWW_AUTHENTICATE],
    },
  );
}

/** A key without the privilege an action needs (403). */
export function unauthorized(
  action: { name: string; privilege: string },
  who: { id: string; name: string },
): SecurityError {
  const granting = action.privilege === 'manage_inference' ? 'manage_inference' : 'monitor_inference,manage_inference';
  return new SecurityError(
    `action [${action.name}] is unauthorized for API key id [${who.id}] of user [${who.name}], this action is granted by the cluster privileges [${granting}]`,
    403,
  );
}

// ---------------------------------------------------------------------------------------
// chat_completion (the unified API)

/** A provider cannot do what a chat request asks (a tool choice it lacks): 400 before the call. */
export function unsupportedByProvider(service: string, what: string): InferenceError {
  return badRequest(`The [${service}] service does not support ${what}`);
}

/** A `chat_completion` endpoint used through a `completion` route (Elasticsearch's ServiceUtils wording). */
export function useChatCompletionUrl(inferenceId: string, supported: readonly string[]): InferenceError {
  return badRequest(
    `Inference entity [${inferenceId}] does not support task type [chat_completion] for inference, the task type must be one of [${supported.join(', ')}]. ` +
      `The task type for the inference entity is chat_completion, please use the _inference/chat_completion/${inferenceId}/_stream URL.`,
  );
}

/** The chat route used with another task type (TransportUnifiedCompletionInferenceAction). */
export function incompatibleUnifiedTaskType(taskType: string): InferenceError {
  return badRequest(
    `Incompatible task_type for unified API, the requested type [${taskType}] must be one of [chat_completion]`,
  );
}
