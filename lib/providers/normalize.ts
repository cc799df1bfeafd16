import type { Frame } from '../framing/frame.js';
import { FramingStream } from '../framing/transforms.js';
import { OrderedErrorTransform } from '../streams/ordered-error-transform.js';
import { resolveReader, type ProviderId } from './index.js';
import type { DeltaObject, EventNormalizer, ResponseReader } from './types.js';

/** Frames in (from any framing stage), delta objects out, for one provider. */
export class NormalizeStream extends OrderedErrorTransform<Frame, DeltaObject> {
  private readonly normalizer: EventNormalizer;
  private framing: FramingStream | null = null;

  /** Throws for an unknown provider id, naming the known ones. */
  constructor(provider: ProviderId | ResponseReader, options: { highWaterMark?: number } = {}) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? 16 });
    this.normalizer = resolveReader(provider).createNormalizer();
    // Piped from a framing stage: its end-of-input truncation report reaches the provider.
    this.on('pipe', (source: unknown) => {
      if (source instanceof FramingStream) this.framing = source;
    });
  }

  protected work(frame: Frame, out: DeltaObject[]): void {
    // Nothing after the provider's end marker may change the outcome.
    if (this.normalizer.finished !== true) this.normalizer.frame(frame, out);
  }

  protected finish(out: DeltaObject[]): void {
    this.normalizer.end(out, this.normalizer.finished !== true && this.framing !== null && this.framing.truncated);
  }
}

/** Frames in, delta objects out: `new NormalizeStream(provider, options)`. */
export function normalize(
  provider: ProviderId | ResponseReader,
  options?: { highWaterMark?: number },
): NormalizeStream {
  return new NormalizeStream(provider, options);
}
