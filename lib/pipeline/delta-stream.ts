import type { ProviderId } from '../providers/index.js';
import type { DeltaObject, ResponseReader } from '../providers/types.js';
import { BodyDecoder, type DecodeOptions } from './body-decoder.js';
import { OrderedErrorTransform } from '../streams/ordered-error-transform.js';

/** Options of {@link deltaStream}: decoding options and the readable side's high-water mark. */
export interface DeltaStreamOptions extends DecodeOptions {
  /** Readable side, in delta objects. Default 16. */
  highWaterMark?: number;
}

/**
 * Provider response bytes in, delta objects out (framing + normalize in one stream).
 * A failure is emitted as `'error'` only after every delta decoded before it was read.
 */
export class DeltaStream extends OrderedErrorTransform<Buffer, DeltaObject> {
  private readonly decoder: BodyDecoder;

  /** Throws for an unknown provider id, naming the known ones. */
  constructor(provider: ProviderId | ResponseReader, options: DeltaStreamOptions = {}) {
    super({ writableObjectMode: false, readableObjectMode: true, readableHighWaterMark: options.highWaterMark ?? 16 });
    this.decoder = new BodyDecoder(provider, options);
  }

  protected work(chunk: Buffer, out: DeltaObject[]): void {
    this.decoder.write(chunk, out);
  }

  protected finish(out: DeltaObject[]): void {
    this.decoder.end(out);
  }
}

/**
 * Provider response bytes in, delta objects out: `{delta}` answer text, `{reasoning}`,
 * `{finish_reason}` and `{usage}`. Throws at once for an unknown provider id.
 */
export function deltaStream(provider: ProviderId | ResponseReader, options?: DeltaStreamOptions): DeltaStream {
  return new DeltaStream(provider, options);
}
