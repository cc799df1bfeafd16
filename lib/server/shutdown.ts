import type { Server } from 'node:http';
import { shuttingDown, type InferenceError } from '../errors.js';

/** How an open stream is ended from outside: with an `event: error` carrying `err`. */
export interface OpenStream {
  end(err: InferenceError): void;
}

/**
 * The streams in flight, so that shutdown can let them finish and end the rest with an
 * error event once the grace period is over.
 */
export class StreamTracker {
  private readonly open = new Set<OpenStream>();
  private waiters: (() => void)[] = [];
  private closing = false;

  get size(): number {
    return this.open.size;
  }

  /** True once shutdown began: new streams should be refused. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Registers a stream; call the returned function when it is over (idempotent). */
  track(stream: OpenStream): () => void {
    this.open.add(stream);
    return () => {
      if (!this.open.delete(stream) || this.open.size > 0) return;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    };
  }

  /** Resolves once no stream is open. */
  idle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Lets open streams finish for `graceMs`, then ends each remaining one with an error
   * event and waits (at most `graceMs` again) for them to close.
   */
  async drain(graceMs: number): Promise<{ finished: number; ended: number }> {
    this.closing = true;
    const before = this.open.size;
    if (await within(this.idle(), graceMs)) return { finished: before, ended: 0 };
    const remaining = [...this.open];
    for (const s of remaining) s.end(shuttingDown());
    await within(this.idle(), graceMs);
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
 * open streams finish within `graceMs`, end the rest with an error event, then close what
 * is left. Resolves when the server is closed.
 */
export async function closeGracefully(server: Server, tracker: StreamTracker, graceMs: number): Promise<{ finished: number; ended: number }> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const result = await tracker.drain(graceMs);
  // no stream is left; whatever is open now is idle keep-alive or a request still being read
  server.closeAllConnections();
  await closed;
  return result;
}
