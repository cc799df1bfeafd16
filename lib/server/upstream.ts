import type { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { InferenceError } from '../errors.js';
import type { StreamSlots } from './slots.js';
import { watchUpstream, type WatchedLimits } from './watchdog.js';
import { NO_RETRY, withRetry, type RetryPolicy } from './retry.js';

/** What a provider call gives back (status, content type, the unread body, Retry-After). */
export interface UpstreamLike {
  status: number;
  contentType: string | undefined;
  body: Readable;
  retryAfter?: string | undefined;
}

/**
 * Calls the provider with retries (only here, before anything went to the client) and a
 * stream slot held for the whole answer. Throws the slot's 429 when the server is full.
 * Returns the answer and the release function of its slot.
 */
export async function callUpstream<T extends UpstreamLike>(
  call: () => Promise<T>,
  options: { slots?: StreamSlots | undefined; retry?: RetryPolicy | undefined; signal?: AbortSignal; deadline?: number },
): Promise<{ upstream: T; release: () => void }> {
  const release = options.slots ? options.slots.acquire() : () => {};
  try {
    const upstream = await withRetry(
      async () => {
        const u = await call();
        // a dropped answer may still report an abort later: nobody listens to it any more
        return Object.assign(u, { discard: () => u.body.on('error', () => {}).destroy() });
      },
      { policy: options.retry ?? NO_RETRY, signal: options.signal, deadline: options.deadline },
    );
    return { upstream, release };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Guards one streamed answer: provider timeouts (first byte, idle, total) end it with
 * `fail(err)` and close the provider socket. Once the provider side is over (ended, failed
 * or timed out), a client that has not taken the rest of the answer within `graceMs` is
 * disconnected: a reader that stopped cannot hold a socket forever. Call after the body is
 * piped. Returns `stop`.
 */
export function guardStream(body: Readable, res: ServerResponse, limits: WatchedLimits, fail: (err: InferenceError) => void, graceMs: number): () => void {
  let lingering: NodeJS.Timeout | undefined;
  const stopWatch = watchUpstream(body, limits, (err) => {
    fail(err);
    body.destroy();
  });
  const onBodyClose = () => {
    if (res.writableFinished || res.destroyed || lingering) return;
    lingering = setTimeout(() => {
      if (!res.writableFinished) res.destroy();
    }, graceMs);
  };
  body.once('close', onBodyClose);
  const stop = () => {
    stopWatch();
    clearTimeout(lingering);
    body.off('close', onBodyClose);
  };
  res.once('close', stop);
  return stop;
}
