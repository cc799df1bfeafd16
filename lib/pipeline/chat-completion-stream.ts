import { Transform, type TransformCallback } from 'node:stream';
import { hookFailed, toInferenceError, type InferenceError } from '../errors.js';
import { ChatChunker, chatDoneEvent, chatErrorEvent, type ChatChunkOptions } from '../output/chat.js';
import type { ProviderId } from '../providers/index.js';
import type { DeltaObject, ResponseReader } from '../providers/types.js';
import { BodyDecoder, type DecodeOptions } from './body-decoder.js';

/** Options of {@link chatCompletionStream}: decoding and chunk options, and two hooks. */
export interface ChatCompletionStreamOptions extends DecodeOptions, ChatChunkOptions {
  /** Readable side high-water mark in bytes. Default 16 KiB. */
  highWaterMark?: number;
  /** Called with every delta object (role, tool calls, reasoning, finish_reason, usage included). If it throws, the stream ends with an error naming the hook. */
  onDelta?: (delta: DeltaObject) => void;
  /** Rewrites the error the output ends with before it is written (e.g. to remove credentials a provider quoted). If it throws, the error names the hook instead. */
  mapError?: (err: InferenceError) => InferenceError;
}

/** A BodyDecoder that hands over each provider event's deltas as soon as the event is read. */
class GroupingDecoder extends BodyDecoder {
  constructor(provider: ProviderId | ResponseReader, options: DecodeOptions, onFrame: (out: DeltaObject[]) => void) {
    super(provider, options);
    this.afterFrame = onFrame;
  }
}

/**
 * Provider response bytes in, Elasticsearch `chat_completion` SSE bytes out: framing,
 * normalizing and writing OpenAI `chat.completion.chunk` events (one per provider event
 * that shows something: text, a tool-call piece, a refusal, the finish reason) in one
 * Transform, then a usage chunk when the provider reported usage, then `[DONE]`.
 * Never emits `'error'`: a failure becomes one `event: error` in the unified
 * (OpenAI-style) shape after everything decoded before it, and nothing follows it.
 */
export class ChatCompletionStream extends Transform {
  private readonly decoder: GroupingDecoder;
  private readonly chunker: ChatChunker;
  private readonly bom: boolean;
  private readonly onDelta: ((delta: DeltaObject) => void) | undefined;
  private readonly mapError: ((err: InferenceError) => InferenceError) | undefined;
  private readonly scratch: DeltaObject[] = [];
  private ended = false;
  private failure: InferenceError | null = null;
  private readonly onFrame = (out: DeltaObject[]): void => this.emitGroup(out);
  /** The events of the current read, not pushed yet. */
  private pending = '';

  /** Throws for an unknown provider id, naming the known ones. */
  constructor(provider: ProviderId | ResponseReader, options: ChatCompletionStreamOptions = {}) {
    super({ readableHighWaterMark: options.highWaterMark ?? 16 * 1024 });
    this.bom = options.bom ?? false;
    this.onDelta = options.onDelta;
    this.mapError = options.mapError;
    this.chunker = new ChatChunker(options);
    this.decoder = new GroupingDecoder(provider, options, this.onFrame);
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.ended) return callback();
    const out = this.scratch;
    try {
      this.decoder.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, out);
    } catch (err) {
      // what the failing event decoded before the failure goes first (unless the hook failed on it)
      this.finishWithError(this.emitRest(out) ?? err ?? new Error('unknown failure'));
    }
    this.flushOut();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.ended) return callback();
    const out = this.scratch;
    try {
      this.decoder.end(out);
      this.emitGroup(out); // what the end itself produced (held finish reasons, usage)
    } catch (err) {
      this.finishWithError(this.emitRest(out) ?? err ?? new Error('unknown failure'));
      return callback();
    }
    this.ended = true;
    const usage = this.chunker.end();
    this.push(this.pending + usage + chatDoneEvent(this.bom));
    this.pending = '';
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

  private emitGroup(out: DeltaObject[]): void {
    if (out.length === 0) return;
    if (this.onDelta !== undefined) {
      try {
        for (let i = 0; i < out.length; i++) this.onDelta(out[i]!);
      } catch (err) {
        out.length = 0;
        throw hookFailed('onDelta', err);
      }
    }
    const event = this.chunker.group(out, 0);
    out.length = 0;
    // the events of one read go out in one push (still one chunk per event): fewer buffers downstream
    if (event !== '') this.pending += event;
  }

  private flushOut(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.push(text);
  }

  /** Emits what is left after a failure; returns the hook's error if onDelta failed on it. */
  private emitRest(out: DeltaObject[]): unknown {
    try {
      this.emitGroup(out);
      return null;
    } catch (err) {
      return err;
    }
  }

  private finishWithError(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    let e = toInferenceError(err);
    if (this.mapError !== undefined) {
      try {
        e = toInferenceError(this.mapError(e));
      } catch (hookErr) {
        // the original error may hold what mapError was meant to remove: it is not written
        e = hookFailed('mapError', hookErr);
      }
    }
    this.failure = e;
    this.flushOut();
    this.push(chatErrorEvent(this.failure, this.bom));
    this.push(null);
  }
}

/**
 * Provider response bytes in, Elasticsearch `chat_completion` SSE bytes out, for one
 * provider: `provider body → chatCompletionStream('openai') → res`.
 */
export function chatCompletionStream(
  provider: ProviderId | ResponseReader,
  options?: ChatCompletionStreamOptions,
): ChatCompletionStream {
  return new ChatCompletionStream(provider, options);
}
