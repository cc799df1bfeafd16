import type { DeltaObject, Provider } from '../providers/types.js';
import { BodyDecoder, type DecodeOptions } from './body-decoder.js';
import { OrderedErrorTransform } from '../streams/ordered-error-transform.js';

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

  constructor(provider: string | Provider, options: DeltaStreamOptions = {}) {
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

export function deltaStream(provider: string | Provider, options?: DeltaStreamOptions): DeltaStream {
  return new DeltaStream(provider, options);
}
