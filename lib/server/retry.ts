import { errorCode } from '../errors.js';
import { offAbort, onAbort, type CallSignal } from '../providers/transport.js';

/**
 * When a provider call may be tried again. Only before anything has gone to the client:
 * after the first byte, a retry could duplicate or splice an answer, so it never happens.
 */
export interface RetryPolicy {
  /** Tries in all, the first included. 1 = no retry. */
  maxAttempts: number;
  /** Backoff before try n+1 is random in [0, min(maxDelayMs, baseDelayMs · 2^(n-1))] ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the error goes to the client. */
  maxRetryAfterMs: number;
  /** Upstream statuses worth another try. */
  retryStatuses: readonly number[];
}

/** Elasticsearch-like retries: 3 tries, full-jitter backoff, Retry-After honoured up to a bound. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4000,
  maxRetryAfterMs: 10_000,
  retryStatuses: Object.freeze([429, 500, 502, 503, 504]),
});

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date. Null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3}, /.test(v)) return null; // an HTTP date starts with the day name; Date.parse takes far more
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Connection-level failures worth another try (nothing was answered). Timeouts and aborts are not. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Whether a thrown error (undici's, possibly wrapped as `cause`) is a connection failure. */
export function isRetryableError(err: unknown): boolean {
  return errorCode(err, isRetryableCode) !== undefined;
}

function isRetryableCode(code: string): boolean {
  return RETRYABLE_CODES.has(code);
}

/**
 * How long to wait before try `attempt + 1` after try `attempt` (1-based) failed, or null
 * when there must be no further try. `Retry-After` (ms) wins over backoff when given;
 * `remainingMs` is what is left of the caller's deadline.
 */
export function retryDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs: number | null,
  remainingMs = Infinity,
  random: () => number = Math.random,
): number | null {
  if (attempt >= policy.maxAttempts) return null;
  let delay: number;
  if (retryAfterMs !== null) {
    if (retryAfterMs > policy.maxRetryAfterMs) return null;
    delay = retryAfterMs;
  } else {
    const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    delay = Math.floor(random() * cap);
  }
  return delay < remainingMs ? delay : null;
}

/** What one try produced: a response whose status decides, or a thrown error. */
export interface Attempted {
  status: number;
  retryAfter?: string | string[] | undefined;
  /** Called when this response is dropped for a retry (e.g. destroy its body to free the socket). */
  discard(): void;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Stops waiting and trying (the client went away). */
  signal?: CallSignal | undefined;
  /** Absolute time (ms) after which no new try starts. */
  deadline?: number | undefined;
  /** Told about each retry, e.g. for logging. */
  onRetry?: ((info: { attempt: number; delayMs: number; status?: number; code?: string }) => void) | undefined;
  random?: () => number;
}

/**
 * Calls `attempt` until it gives a response that is not retryable, or tries run out; the
 * last response (or error) is what the caller gets. Must only wrap the part before any
 * byte has gone to the client.
 */
export async function withRetry<T extends Attempted>(
  attempt: (n: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { policy, signal } = options;
  for (let n = 1; ; n++) {
    let result: T;
    try {
      result = await attempt(n);
    } catch (err) {
      if (signal?.aborted || !isRetryableError(err)) throw err;
      const delay = retryDelay(n, policy, null, remaining(options), options.random);
      if (delay === null) throw err;
      options.onRetry?.({ attempt: n, delayMs: delay, code: errorCode(err) });
      await wait(delay, signal, err);
      continue;
    }
    if (!policy.retryStatuses.includes(result.status)) return result;
    const delay = retryDelay(n, policy, parseRetryAfter(result.retryAfter), remaining(options), options.random);
    if (delay === null || signal?.aborted) return result;
    result.discard();
    options.onRetry?.({ attempt: n, delayMs: delay, status: result.status });
    await wait(delay, signal, null);
  }
}

function remaining(options: RetryOptions): number {
  return options.deadline === undefined ? Infinity : options.deadline - Date.now();
}

/** Waits, unless the signal fires first: then rejects with the last error, or an abort error. */
function wait(ms: number, signal: CallSignal | undefined, lastError: unknown): Promise<void> {
  if (signal?.aborted) return Promise.reject(lastError ?? abortError(signal));
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      reject(lastError ?? abortError(signal!));
    };
    const timer = setTimeout(() => {
      if (signal) offAbort(signal, aborted);
      resolve();
    }, ms);
    if (signal) onAbort(signal, aborted);
  });
}

/** What an aborted wait rejects with when no try failed yet: Node's AbortError, the signal's reason as its cause. */
function abortError(signal: CallSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}
