import type { Server } from 'node:http';
import { shuttingDown, type InferenceError } from '../errors.js';

/** How a request in flight is ended from outside: answered with `err` (503 or an `event: error`), its provider call closed. */
export interface OpenStream {
  end(err: InferenceError): void;
}

/** After the grace period, how long ended requests get to write their last bytes before their connections are closed. */
const LAST_WORDS_MS = 500;

/**
 * The inference requests in flight (waiting for the provider, answering, or draining), so
 * that shutdown can let them finish and end the rest once the grace period is over.
 */
export class StreamTracker {
  private readonly open = new Set<OpenStream>();
  private waiters: (() => void)[] = [];
  private closing = false;

  get size(): number {
    return this.open.size;
  }

  /** True once shutdown began: new requests are refused with 503. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Registers a request; call the returned function when it is over (idempotent). */
  track(stream: OpenStream): () => void {
    this.open.add(stream);
    return () => {
      if (!this.open.delete(stream) || this.open.size > 0) return;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    };
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Lets requests finish for `graceMs`, then ends each remaining one (a 503 or an error
   * event) and waits at most half a second more for them to close. Resolves within
   * `graceMs` + 0.5 s whatever clients and providers do.
   */
  async drain(graceMs: number): Promise<{ finished: number; ended: number }> {
    this.closing = true;
    const before = this.open.size;
    if (await within(this.idle(), graceMs)) return { finished: before, ended: 0 };
    const remaining = [...this.open];
    for (const s of remaining) s.end(shuttingDown());
    await within(this.idle(), Math.min(graceMs, LAST_WORDS_MS));
    return { finished: before - remaining.length, ended: remaining.length };
  }
}

/** Whether the promise settled within `ms` (the timer does not keep the process alive). */
async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Graceful close of an HTTP server: stop accepting, close idle keep-alive connections, let
 * requests in flight finish within `graceMs`, end the rest, then close every connection
 * (a client that does not read cannot hold the close). Resolves when the server is closed,
 * within `graceMs` + 0.5 s.
 */
export async function closeGracefully(
  server: Server,
  tracker: StreamTracker,
  graceMs: number,
): Promise<{ finished: number; ended: number }> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const result = await tracker.drain(graceMs);
  server.closeAllConnections();
  await closed;
  return result;
}
