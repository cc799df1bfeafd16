import type { TransformCallback } from 'node:stream';
import { BatchingTransform } from '../output/batching-transform.js';
import type { BatchOptions } from '../output/batcher.js';
import { hookFailed, toInferenceError, type InferenceError } from '../errors.js';
import type { ProviderId } from '../providers/index.js';
import type { DeltaObject, ResponseReader } from '../providers/types.js';
import { CompletionEventWriter, doneEvent, errorEvent, type SerializeOptions } from '../output/serialize.js';
import { BodyDecoder, type DecodeOptions } from './body-decoder.js';

/**
 * Most events of one tick held for one push: a burst of reads in one tick costs one push
 * per this many events, and the first event of the burst waits for at most this many
 * others to be read (the latency benchmark's tail stays near the per-event push's).
 */
const EVENTS_PER_PUSH = 8;

/** Options of {@link completionStream}: decoding, batching and serializing options, and two hooks. */
export interface CompletionStreamOptions extends DecodeOptions, BatchOptions, SerializeOptions {
  /** Readable side high-water mark in bytes. Default 16 KiB. */
  highWaterMark?: number;
  /**
   * Called with every delta object (reasoning, finish_reason, usage included), e.g. to
   * record usage. If it throws, the stream ends with an error event naming the hook.
   */
  onDelta?: (delta: DeltaObject) => void;
  /**
   * Rewrites the error the output ends with before it is written (e.g. to remove
   * credentials a provider quoted). If it throws, the error event names the hook instead.
   */
  mapError?: (err: InferenceError) => InferenceError;
}

/**
 * Provider response bytes in, Elasticsearch `completion` SSE bytes out: framing,
 * normalizing, batching and serializing in one Transform (no hop between stages).
 * Never emits `'error'`: a failure becomes Elasticsearch's `event: error` after
 * everything decoded before it, and the output ends there without `[DONE]`.
 */
export class CompletionStream extends BatchingTransform {
  private readonly decoder: BodyDecoder;
  private readonly bom: boolean;
  private readonly onDelta: ((delta: DeltaObject) => void) | undefined;
  private readonly mapError: ((err: InferenceError) => InferenceError) | undefined;
  private readonly scratch: DeltaObject[] = [];
  private ended = false;
  private failure: InferenceError | null = null;
  private readonly writer: CompletionEventWriter;
  /** The write callback held while the readable side is full (see _write). */
  private resumeWriter: ((error?: Error | null) => void) | null = null;
  /** A push of the pending events is scheduled for the end of this tick. */
  private scheduled = false;
  /** Events appended since the last push. */
  private held = 0;
  private readonly sink = (chunk: Buffer): void => {
    this.push(chunk);
  };
  /**
   * Answer texts as the provider's JSON string tokens, copied to the output as they are,
   * while nothing needs them as strings (no onDelta hook) and they are written soon: not
   * while the consumer is behind or maxDelayMs holds batches (a held token keeps its read's
   * Buffer alive).
   */
  private readonly tokenSink = {
    token: (buf: Buffer, from: number, to: number, out: DeltaObject[]): boolean => {
      if (this.readableLength >= this.readableHighWaterMark) return false;
      if (to - from > 2) {
        if (out.length > 0) {
          this.batcher.add(out);
          out.length = 0;
        }
        this.batcher.addToken(buf, from, to);
      }
      return true;
    },
  };
  private readonly onTick = (): void => {
    this.scheduled = false;
    if (!this.ended && !this.destroyed) this.pushPending();
  };

  /** Throws for an unknown provider id, naming the known ones. */
  constructor(provider: ProviderId | ResponseReader, options: CompletionStreamOptions = {}) {
    const decoder = new BodyDecoder(provider, options);
    super(options, { readableHighWaterMark: options.highWaterMark ?? 16 * 1024 });
    this.decoder = decoder;
    this.bom = options.bom ?? false;
    this.writer = new CompletionEventWriter(this.bom, this.sink);
    this.onDelta = options.onDelta;
    this.mapError = options.mapError;
    if (this.onDelta === undefined && this.batcher.maxDelayMs === 0) decoder.tokens = this.tokenSink;
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, callback: TransformCallback): void {
    this.consume(chunk);
    callback();
  }

  /**
   * Transform's own _write wraps every write in a new callback closure; this does the same
   * bookkeeping without one: the write is acknowledged at once unless this read filled the
   * readable side, in which case it is acknowledged when the consumer reads again.
   * Events written in one tick are pushed together at its end, as one chunk (sooner after 8
   * events, or when the readable side would pass its high-water mark): see pushBatch.
   */
  override _write(chunk: Buffer | string, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    const before = this.readableLength + this.writer.pending;
    this.consume(chunk);
    const after = this.readableLength;
    if (this.writableEnded || before === after + this.writer.pending || after < this.readableHighWaterMark) callback();
    else this.resumeWriter = callback;
  }

  override _read(size: number): void {
    super._read(size);
    // The consumer wants data now: what this tick wrote goes at once.
    if (this.writer.pending > 0) this.pushPending();
    const resume = this.resumeWriter;
    if (resume !== null) {
      this.resumeWriter = null;
      resume();
    }
  }

  private consume(chunk: Buffer | string): void {
    if (this.ended) return;
    const out = this.scratch;
    let failure: unknown = null;
    try {
      this.decoder.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, out);
    } catch (err) {
      failure = err ?? new Error('unknown failure');
    }
    const hookError = this.collect(out);
    if (hookError !== null) this.finishWithError(hookError);
    else if (failure !== null) this.finishWithError(failure);
    else this.offer();
  }

  override _flush(callback: TransformCallback): void {
    if (this.ended) return callback();
    const out = this.scratch;
    let failure: unknown = null;
    try {
      this.decoder.end(out);
    } catch (err) {
      failure = err ?? new Error('unknown failure');
    }
    const hookError = this.collect(out);
    if (hookError !== null || failure !== null) {
      this.finishWithError(hookError ?? failure);
      return callback();
    }
    this.flushPending();
    this.pushPending();
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
    const writer = this.writer;
    writer.append(texts, count, this.batcher.tokens);
    // Held for the end of the tick only for a few events, and while the readable side has room for them.
    if (++this.held >= EVENTS_PER_PUSH || writer.pending + this.readableLength >= this.readableHighWaterMark)
      this.pushPending();
    else if (!this.scheduled && writer.pending > 0) {
      this.scheduled = true;
      process.nextTick(this.onTick);
    }
  }

  /** Pushes the events written and not pushed yet. */
  private pushPending(): void {
    this.held = 0;
    const chunk = this.writer.take();
    if (chunk !== null) this.push(chunk);
  }

  /**
   * Hands decoded deltas to `onDelta` and the batcher. Returns the hook's failure, if it
   * threw: the deltas before the one it threw on are still delivered, none after.
   */
  private collect(out: DeltaObject[]): InferenceError | null {
    if (out.length === 0) return null;
    const onDelta = this.onDelta;
    if (onDelta !== undefined) {
      for (let i = 0; i < out.length; i++) {
        try {
          onDelta(out[i]!);
        } catch (err) {
          out.length = i;
          this.batcher.add(out);
          out.length = 0;
          return hookFailed('onDelta', err);
        }
      }
    }
    this.batcher.add(out);
    out.length = 0;
    return null;
  }

  private finishWithError(err: unknown): void {
    this.flushPending();
    this.pushPending();
    this.ended = true;
    let failure = toInferenceError(err);
    if (this.mapError !== undefined) {
      try {
        failure = toInferenceError(this.mapError(failure));
      } catch (hookErr) {
        // the original error may hold what mapError was meant to remove: it is not written
        failure = hookFailed('mapError', hookErr);
      }
    }
    this.failure = failure;
    this.push(errorEvent(failure, this.bom));
    this.push(null);
  }
}

/**
 * Provider response bytes in, Elasticsearch `completion` Server-Sent Events out. Never
 * emits `'error'`: a failure is written as `event: error`. Throws at once for an unknown
 * provider id, naming the known ones.
 */
export function completionStream(
  provider: ProviderId | ResponseReader,
  options?: CompletionStreamOptions,
): CompletionStream {
  return new CompletionStream(provider, options);
}
