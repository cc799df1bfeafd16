import type { Readable } from 'node:stream';
import type { InferenceError } from '../errors.js';
import { firstByteTimeout, idleTimeout, streamTooLong } from '../errors.js';
import type { Limits } from './limits.js';

export type WatchedLimits = Pick<Limits, 'firstByteTimeoutMs' | 'idleTimeoutMs' | 'maxStreamDurationMs'>;

/**
 * Which timeout, if any, a provider body has run into. Pure: `now` and the body's state in,
 * the error out. A body that holds unread data, or that was paused because our own reader
 * is slow, is not idle: the provider is not the one keeping us waiting.
 */
export function overdue(
  state: { startedAt: number; lastChunkAt: number | null; waitingOnReader: boolean },
  now: number,
  limits: WatchedLimits,
): InferenceError | null {
  if (limits.maxStreamDurationMs > 0 && now - state.startedAt >= limits.maxStreamDurationMs)
    return streamTooLong(limits.maxStreamDurationMs);
  if (state.waitingOnReader) return null;
  if (state.lastChunkAt === null) {
    return limits.firstByteTimeoutMs > 0 && now - state.startedAt >= limits.firstByteTimeoutMs
      ? firstByteTimeout(limits.firstByteTimeoutMs)
      : null;
  }
  return limits.idleTimeoutMs > 0 && now - state.lastChunkAt >= limits.idleTimeoutMs
    ? idleTimeout(limits.idleTimeoutMs)
    : null;
}

/** When to look again: the nearest deadline that could trip. */
function nextCheck(
  state: { startedAt: number; lastChunkAt: number | null },
  now: number,
  limits: WatchedLimits,
): number {
  const deadlines: number[] = [];
  if (limits.maxStreamDurationMs > 0) deadlines.push(state.startedAt + limits.maxStreamDurationMs);
  if (state.lastChunkAt === null && limits.firstByteTimeoutMs > 0)
    deadlines.push(state.startedAt + limits.firstByteTimeoutMs);
  if (state.lastChunkAt !== null && limits.idleTimeoutMs > 0) deadlines.push(state.lastChunkAt + limits.idleTimeoutMs);
  if (deadlines.length === 0) return -1;
  return Math.max(1, Math.min(...deadlines) - now);
}

/**
 * Watches a provider body: first byte, idle gaps and total duration. On a timeout calls
 * `onTimeout` once with the error (the caller ends the client's stream with it and destroys
 * the body). One timer, re-armed lazily: no per-chunk timer work. Call it after the body
 * is piped (its 'data' listener must not be the one that starts the flow). Returns `stop`.
 */
export function watchUpstream(
  body: Readable,
  limits: WatchedLimits,
  onTimeout: (err: InferenceError) => void,
): () => void {
  const state = { startedAt: Date.now(), lastChunkAt: null as number | null, waitingOnReader: false };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const onData = () => {
    state.lastChunkAt = Date.now();
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    body.off('data', onData);
    body.off('close', stop);
    body.off('end', stop);
  };
  const check = () => {
    if (stopped) return;
    const now = Date.now();
    state.waitingOnReader = body.readableLength > 0 || body.readableFlowing === false;
    // the idle clock runs only while we are reading: a slow client does not make the provider idle
    if (state.waitingOnReader && state.lastChunkAt !== null) state.lastChunkAt = now;
    const err = overdue(state, now, limits);
    if (err) {
      stop();
      onTimeout(err);
      return;
    }
    const wait = nextCheck(state, now, limits);
    if (wait >= 0) timer = setTimeout(check, wait);
  };
  body.on('data', onData);
  body.on('close', stop); // each comes once, and stop is idempotent: no once() wrappers
  body.on('end', stop);
  check();
  return stop;
}
