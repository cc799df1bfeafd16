import { Transform, type TransformOptions } from 'node:stream';
import { Batcher, type BatchOptions } from './batcher.js';

/**
 * A Transform that sends batches of answer texts as the Batcher's rule says: at once
 * while the consumer keeps up, coalesced while it is behind (up to the bounds, then it
 * pushes and the Transform stops taking input), flushed when the consumer reads again.
 * Subclasses say what a batch looks like on their readable side.
 */
export abstract class BatchingTransform extends Transform {
  protected readonly batcher: Batcher;
  private timer: NodeJS.Timeout | null = null;

  constructor(batchOptions: BatchOptions, streamOptions: TransformOptions) {
    super(streamOptions);
    this.batcher = new Batcher(batchOptions);
  }

  /**
   * Pushes one batch of answer texts, `texts[0…count)`, in the subclass's output form.
   * The array is the batcher's own and is refilled afterwards: copy what must outlive the call.
   */
  protected abstract pushBatch(texts: readonly string[], count: number): void;

  /** Hands the pending texts to pushBatch. */
  private send(now: number): void {
    this.pushBatch(this.batcher.peek(), this.batcher.pending);
    this.batcher.taken(now);
  }

  /** After adding a read's deltas: send now, or hold while the consumer is behind. */
  protected offer(): void {
    if (this.batcher.pending === 0 || this.timer !== null) return;
    // Consumer behind (its buffer is at the high-water mark): coalesce instead of pushing,
    // until the batch is full; then push, and the Transform stops taking input.
    if (this.readableLength >= this.readableHighWaterMark && !this.batcher.full) return;
    const now = this.batcher.maxDelayMs > 0 ? performance.now() : 0;
    const hold = this.batcher.holdFor(now);
    if (hold > 0 && !this.batcher.full) {
      this.timer = setTimeout(this.onTimer, hold);
      return;
    }
    this.send(now);
  }

  /** Sends whatever is pending, whatever the consumer's state (end of stream). */
  protected flushPending(): void {
    this.clearTimer();
    if (this.batcher.pending > 0) this.send(this.batcher.maxDelayMs > 0 ? performance.now() : 0);
  }

  override _read(size: number): void {
    // The consumer wants data: what was coalesced while it was away goes now.
    if (this.timer === null && this.batcher.pending > 0 && !this.writableFinished) this.offer();
    super._read(size);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.clearTimer();
    callback(err);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.destroyed) return;
    if (this.batcher.pending > 0) this.send(performance.now());
  };

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
