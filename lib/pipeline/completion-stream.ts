import type { TransformCallback } from 'node:stream';
import { BatchingTransform } from '../output/batching-transform.js';
import type { BatchOptions } from '../output/batcher.js';
import { toInferenceError, type InferenceError } from '../errors.js';
import type { DeltaObject, Provider } from '../providers/types.js';
import { CompletionEventWriter, doneEvent, errorEvent, type SerializeOptions } from '../output/serialize.js';
import { BodyDecoder, type DecodeOptions } from './body-decoder.js';

export interface CompletionStreamOptions extends DecodeOptions, BatchOptions, SerializeOptions {
  /** Readable side high-water mark in bytes. Default 16 KiB. */
  highWaterMark?: number;
  /** Called with every delta object (reasoning, finish_reason, usage included), e.g. to record usage. */
  onDelta?: (delta: DeltaObject) => void;
  /** Rewrites the error the output ends with before it is written (e.g. to remove credentials a provider quoted). */
  mapError?: (err: InferenceError) => InferenceError;
}

/**
 * Provider response bytes in, Elasticsearch `completion` SSE bytes out: framing,
 * normalizing, batching and serializing in one Transform (no hop between stages).
 * Never emits `'error'`: a failure becomes Elasticsearch's `event: error` after
 * everything decoded before it, and the output ends there without `[DONE]`.
 */
export class CompletionStream extends BatchingTransform {
  private readonly decoder: BodyDecoder | null;
  private readonly bom: boolean;
  private readonly onDelta: ((delta: DeltaObject) => void) | undefined;
  private readonly mapError: ((err: InferenceError) => InferenceError) | undefined;
  private readonly scratch: DeltaObject[] = [];
  private ended = false;
  private startError: unknown = null;
  private failure: InferenceError | null = null;
  private readonly writer: CompletionEventWriter;
  /** The write callback held while the readable side is full (see _write). */
  private resumeWriter: ((error?: Error | null) => void) | null = null;

  constructor(provider: string | Provider, options: CompletionStreamOptions = {}) {
    super(options, { readableHighWaterMark: options.highWaterMark ?? 16 * 1024 });
    this.bom = options.bom ?? false;
    this.writer = new CompletionEventWriter(this.bom);
    this.onDelta = options.onDelta;
    this.mapError = options.mapError;
    let decoder: BodyDecoder | null = null;
    try {
      decoder = new BodyDecoder(provider, options);
    } catch (err) {
      this.startError = err; // e.g. an unknown provider: reported on the stream, not thrown at the caller
    }
    this.decoder = decoder;
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, callback: TransformCallback): void {
    this.consume(chunk);
    callback();
  }

  /**
   * Transform's own _write wraps every write in a new callback closure; this does the same
   * bookkeeping without one: the write is acknowledged at once unless this read filled the
   * readable side, in which case it is acknowledged when the consumer reads again.
   */
  override _write(chunk: Buffer | string, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    const before = this.readableLength;
    this.consume(chunk);
    if (this.writableEnded || before === this.readableLength || this.readableLength < this.readableHighWaterMark)
      callback();
    else this.resumeWriter = callback;
  }

  override _read(size: number): void {
    super._read(size);
    const resume = this.resumeWriter;
    if (resume !== null) {
      this.resumeWriter = null;
      resume();
    }
  }

  private consume(chunk: Buffer | string): void {
    if (this.ended) return;
    if (this.decoder === null) {
      this.finishWithError(this.startError);
      return;
    }
    const out = this.scratch;
    let failure: unknown = null;
    try {
      this.decoder.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, out);
    } catch (err) {
      failure = err ?? new Error('unknown failure');
    }
    this.collect(out);
    if (failure !== null) this.finishWithError(failure);
    else this.offer();
  }

  override _flush(callback: TransformCallback): void {
    if (this.ended) return callback();
    if (this.decoder === null) {
      this.finishWithError(this.startError);
      return callback();
    }
    const out = this.scratch;
    try {
      this.decoder.end(out);
    } catch (err) {
      this.collect(out);
      this.finishWithError(err ?? new Error('unknown failure'));
      return callback();
    }
    this.collect(out);
    this.flushPending();
    this.ended = true;
    this.push(doneEvent(this.bom));
    callback();
  }

  /** The error the output ended with, if it ended with one. */
  get endedWithError(): InferenceError | null {
    return this.failure;
  }

  /** Ends the output with an error event now (e.g. the upstream request failed). */
  fail(err: unknown): void {
    if (!this.ended) this.finishWithError(err);
  }

  protected pushBatch(texts: readonly string[], count: number): void {
    this.push(this.writer.write(texts, count));
  }

  private collect(out: DeltaObject[]): void {
    if (out.length === 0) return;
    if (this.onDelta !== undefined) for (let i = 0; i < out.length; i++) this.onDelta(out[i]!);
    this.batcher.add(out);
    out.length = 0;
  }

  private finishWithError(err: unknown): void {
    this.flushPending();
    this.ended = true;
    this.failure = this.mapError ? this.mapError(toInferenceError(err)) : toInferenceError(err);
    this.push(errorEvent(this.failure, this.bom));
    this.push(null);
  }
}

export function completionStream(provider: string | Provider, options?: CompletionStreamOptions): CompletionStream {
  return new CompletionStream(provider, options);
}
