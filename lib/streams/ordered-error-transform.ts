import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { toInferenceError, type InferenceError } from '../errors.js';

/**
 * A Transform whose work appends outputs to an array and may throw. The outputs made
 * before a throw are pushed, and the error is emitted only once they have all been read:
 * a consumer never loses data to the error that followed it. Input after an error is
 * consumed and discarded, so the source is never left hanging.
 */
export abstract class OrderedErrorTransform<In, Out> extends Transform {
  private readonly scratch: Out[] = [];
  private failure: InferenceError | null = null;
  private failureRaised = false;

  constructor(options: TransformOptions) {
    super(options);
  }

  /** Decode one input, appending outputs to `out`; throw to fail the stream. */
  protected abstract work(input: In, out: Out[]): void;
  /** End of input, appending what is left to `out`; throw to fail the stream. */
  protected abstract finish(out: Out[]): void;

  override _transform(input: In, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.failure !== null) return callback();
    const out = this.scratch;
    try {
      this.work(input, out);
    } catch (err) {
      this.failure = toInferenceError(err);
    }
    this.deliver(out);
    this.raiseWhenDrained();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.failure === null) {
      const out = this.scratch;
      try {
        this.finish(out);
      } catch (err) {
        this.failure = toInferenceError(err);
      }
      this.deliver(out);
    }
    if (this.failure === null) return callback();
    // Not calling back keeps 'end' from being emitted: the error comes instead.
    this.raiseWhenDrained();
  }

  override _read(size: number): void {
    super._read(size);
    this.raiseWhenDrained();
  }

  // _read is not called again while a previous call is still unanswered, so the
  // consumer taking the last buffered output is noticed here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the signature of Readable#read
  override read(size?: number): any {
    const chunk = super.read(size);
    if (this.failure !== null && !this.failureRaised && this.readableLength === 0) process.nextTick(this.raiseLater);
    return chunk;
  }

  private readonly raiseLater = (): void => this.raiseWhenDrained();

  private deliver(out: Out[]): void {
    for (let i = 0; i < out.length; i++) this.push(out[i]);
    out.length = 0;
  }

  private raiseWhenDrained(): void {
    if (this.failure === null || this.failureRaised || this.readableLength > 0) return;
    this.failureRaised = true;
    this.destroy(this.failure);
  }
}
