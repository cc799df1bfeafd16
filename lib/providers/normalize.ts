import type { Frame } from '../framing/frame.js';
import { OrderedErrorTransform } from '../streams/ordered-error-transform.js';
import { resolveReader, type ProviderId } from './index.js';
import type { DeltaObject, EventNormalizer, ResponseReader } from './types.js';

/** Frames in (from any framing stage), delta objects out, for one provider. */
export class NormalizeStream extends OrderedErrorTransform<Frame, DeltaObject> {
  private readonly normalizer: EventNormalizer;

  /** Throws for an unknown provider id, naming the known ones. */
  constructor(provider: ProviderId | ResponseReader, options: { highWaterMark?: number } = {}) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? 16 });
    this.normalizer = resolveReader(provider).createNormalizer();
  }

  protected work(frame: Frame, out: DeltaObject[]): void {
    this.normalizer.frame(frame, out);
  }

  protected finish(out: DeltaObject[]): void {
    this.normalizer.end(out);
  }
}

/** Frames in, delta objects out: `new NormalizeStream(provider, options)`. */
export function normalize(provider: ProviderId | ResponseReader, options?: { highWaterMark?: number }): NormalizeStream {
  return new NormalizeStream(provider, options);
}
