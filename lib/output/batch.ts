import type { TransformCallback } from 'node:stream';
import type { DeltaObject, TextDelta } from '../providers/types.js';
import type { BatchOptions } from './batcher.js';
import { BatchingTransform } from './batching-transform.js';

/**
 * Delta objects in, `completion` arrays (`[{delta}, …]`) out. Write an array of delta
 * objects to mark one upstream read's worth (they stay together); single objects are
 * batched as they come. Non-answer objects (reasoning, finish_reason, usage) are dropped.
 */
export class Batch extends BatchingTransform {
  constructor(options: BatchOptions & { highWaterMark?: number } = {}) {
    super(options, { objectMode: true, highWaterMark: options.highWaterMark ?? 16 });
  }

  override _transform(
    item: DeltaObject | readonly DeltaObject[],
    _enc: BufferEncoding,
    callback: TransformCallback,
  ): void {
    if (Array.isArray(item)) this.batcher.add(item);
    else if (item && typeof (item as TextDelta).delta === 'string') this.batcher.addText((item as TextDelta).delta);
    this.offer();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.flushPending();
    callback();
  }

  protected pushBatch(texts: readonly string[], count: number): void {
    const batch: TextDelta[] = new Array(count);
    for (let i = 0; i < count; i++) batch[i] = { delta: texts[i]! };
    this.push(batch);
  }
}

/** Delta objects in, `completion` arrays out: `new Batch(options)`. */
export function batch(options?: BatchOptions & { highWaterMark?: number }): Batch {
  return new Batch(options);
}
