import { errorBody, headersTooLarge, invalidOption, requestHeadTimeout, unparsableHttp } from '../errors.js';

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

/** The limits used where none are given. */
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
    if (!Object.hasOwn(DEFAULT_LIMITS, key))
      throw invalidOption(`Unknown limit [${key}]; known limits: [${Object.keys(DEFAULT_LIMITS).join(', ')}]`);
    const isTime = key.endsWith('Ms');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || (!isTime && value === 0)) {
      throw invalidOption(
        `Limit [${key}] must be a ${isTime ? 'non-negative' : 'positive'} integer, got [${String(value)}]`,
      );
    }
    limits[key] = value;
  }
  if (limits.headersTimeoutMs === 0) limits.headersTimeoutMs = DEFAULT_LIMITS.headersTimeoutMs; // Node needs one
  return limits;
}

/** The raw HTTP answer to a request Node refused (oversized head 431, slow head 408, else 400), in Elasticsearch's JSON. */
export function clientErrorResponse(code: string | undefined, maxHeaderBytes: number): string {
  const err =
    code === 'HPE_HEADER_OVERFLOW'
      ? headersTooLarge(maxHeaderBytes)
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? requestHeadTimeout()
        : unparsableHttp();
  const body = JSON.stringify(errorBody(err));
  const phrase =
    err.status === 431 ? 'Request Header Fields Too Large' : err.status === 408 ? 'Request Timeout' : 'Bad Request';
  return (
    `HTTP/1.1 ${err.status} ${phrase}\r\nContent-Type: application/json\r\nX-Elastic-Product: Elasticsearch\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
