import type { Frame } from '../framing/frame.js';
import { OrderedErrorTransform } from '../streams/ordered-error-transform.js';
import { getProvider } from './index.js';
import type { DeltaObject, EventNormalizer, Provider } from './types.js';

/** Frames in (from any framing stage), delta objects out, for one provider. */
export class NormalizeStream extends OrderedErrorTransform<Frame, DeltaObject> {
  private readonly normalizer: EventNormalizer;

  constructor(provider: string | Provider, options: { highWaterMark?: number } = {}) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? 16 });
    this.normalizer = getProvider(provider).createNormalizer();
  }

  protected work(frame: Frame, out: DeltaObject[]): void {
    this.normalizer.frame(frame, out);
  }

  protected finish(out: DeltaObject[]): void {
    this.normalizer.end(out);
  }
}

export function normalize(provider: string | Provider, options?: { highWaterMark?: number }): NormalizeStream {
  return new NormalizeStream(provider, options);
}
