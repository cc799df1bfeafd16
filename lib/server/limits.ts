import { ErrorType, InferenceError, errorBody } from '../errors.js';

/** Every limit the server enforces. All sizes in bytes, all times in milliseconds; 0 means no limit for times. */
export interface Limits {
  /** Largest request body (413). */
  maxBodyBytes: number;
  /** Largest request head, request line and headers together (431; Node's `maxHeaderSize`). */
  maxHeaderBytes: number;
  /** Streams open at once; one more is refused with 429 before the provider is called. */
  maxConcurrentStreams: number;
  /** Wait for the provider's first body byte once its headers are in. */
  firstByteTimeoutMs: number;
  /** Longest silence between two provider chunks while we are reading. */
  idleTimeoutMs: number;
  /** Longest a stream may last, start to end. */
  maxStreamDurationMs: number;
  /** Largest upstream event / line / frame (the framings' `maxFrameBytes`). */
  maxFrameBytes: number;
  /** Most inference endpoints stored. */
  maxEndpoints: number;
  /** Longest inference id. */
  maxIdLength: number;
  /** Largest answer the non-streaming route collects (characters); a streamed answer is never held. */
  maxAnswerChars: number;
  /** Client connections open at once (Node's `server.maxConnections`); more are closed at once. */
  maxConnections: number;
  /** Longest a client may take to send the request head (Node's `headersTimeout`; 408). */
  headersTimeoutMs: number;
  /** With `onDisconnect: 'drain'`: longest a provider answer is still read after its client left. */
  drainTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxConcurrentStreams: 256,
  firstByteTimeoutMs: 60_000,
  idleTimeoutMs: 120_000,
  maxStreamDurationMs: 15 * 60_000,
  maxFrameBytes: 4 * 1024 * 1024,
  maxEndpoints: 1000,
  maxIdLength: 64,
  maxAnswerChars: 8 * 1024 * 1024,
  maxConnections: 1024,
  headersTimeoutMs: 60_000,
  drainTimeoutMs: 60_000,
});

/** The limit names, for usage texts. */
export const LIMIT_NAMES: readonly (keyof Limits)[] = Object.freeze(Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]);

/** Defaults overlaid with what is given; throws for a value that is not a non-negative integer (or positive, for sizes and counts). */
export function resolveLimits(given: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(given) as [keyof Limits, unknown][]) {
    if (value === undefined) continue;
    // own names only: `constructor` or `toString` are no limits
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) throw new InferenceError(ErrorType.illegalArgument, `Unknown limit [${key}]; known limits: [${Object.keys(DEFAULT_LIMITS).join(', ')}]`, 400);
    const isTime = key.endsWith('Ms');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || (!isTime && value === 0)) {
      throw new InferenceError(ErrorType.illegalArgument, `Limit [${key}] must be a ${isTime ? 'non-negative' : 'positive'} integer, got [${String(value)}]`, 400);
    }
    limits[key] = value;
  }
  if (limits.headersTimeoutMs === 0) limits.headersTimeoutMs = DEFAULT_LIMITS.headersTimeoutMs; // Node needs one
  return limits;
}

/** `30s`, `1.5s`, `250ms`, `10m`: how Elasticsearch prints a time value. */
export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function bodyTooLarge(maxBytes: number): InferenceError {
  return new InferenceError('content_too_long_exception', `Request body is too large: more than [${maxBytes}] bytes`, 413);
}

export function headersTooLarge(maxBytes: number): InferenceError {
  return new InferenceError('too_long_http_header_exception', `HTTP header is larger than [${maxBytes}] bytes`, 431);
}

export function tooManyStreams(max: number): InferenceError {
  return new InferenceError(
    ErrorType.tooManyRequests,
    `rejected execution of inference stream: [${max}] streams are already open, the most this server allows at once; retry later`,
    429,
  );
}

export function firstByteTimeout(ms: number): InferenceError {
  return new InferenceError(ErrorType.timeout, `Timed out after [${formatDuration(ms)}] waiting for the first byte of the inference provider's response body`, 408);
}

export function idleTimeout(ms: number): InferenceError {
  return new InferenceError(ErrorType.timeout, `The inference provider sent nothing for [${formatDuration(ms)}]; the stream was ended`, 408);
}

export function streamTooLong(ms: number): InferenceError {
  return new InferenceError(ErrorType.timeout, `The stream reached its maximum duration of [${formatDuration(ms)}] and was ended`, 408);
}

export function answerTooLarge(inferenceId: string, max: number): InferenceError {
  return new InferenceError(
    ErrorType.status,
    `The answer from inference entity id [${inferenceId}] is longer than [${max}] characters, the most a non-streaming request collects; use _stream`,
    500,
  );
}

export function tooManyEndpoints(max: number): InferenceError {
  return new InferenceError(ErrorType.status, `Cannot create another inference endpoint: the limit of [${max}] endpoints is reached; delete one first`, 400);
}

/** The raw HTTP answer to a request Node refused (oversized head 431, slow head 408, else 400), in Elasticsearch's JSON. */
export function clientErrorResponse(code: string | undefined, maxHeaderBytes: number): string {
  const err =
    code === 'HPE_HEADER_OVERFLOW'
      ? headersTooLarge(maxHeaderBytes)
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new InferenceError(ErrorType.timeout, 'Timed out waiting for the request headers', 408)
        : new InferenceError(ErrorType.illegalArgument, 'The request could not be parsed as HTTP', 400);
  const body = JSON.stringify(errorBody(err));
  const phrase = err.status === 431 ? 'Request Header Fields Too Large' : err.status === 408 ? 'Request Timeout' : 'Bad Request';
  return (
    `HTTP/1.1 ${err.status} ${phrase}\r\nContent-Type: application/json\r\nX-Elastic-Product: Elasticsearch\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
