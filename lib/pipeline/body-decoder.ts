import type { InferenceError } from '../errors.js';
import { DetectingDecoder, type FramingName, createFrameDecoder } from '../framing/detect.js';
import { DEFAULT_MAX_FRAME_BYTES, type Frame, type FrameDecoder, type FramingOptions } from '../framing/frame.js';
import { INCOMPLETE, MISS, type FrameSyntax, type ShapeCache, type TokenSink } from '../providers/shape-cache.js';
import { resolveReader, type ProviderId } from '../providers/index.js';
import { defaultWords, printableUrl, providerStatusError, type ResponseHeaders } from '../providers/failure.js';
import type { DeltaObject, EventNormalizer, ReaderOptions, ResponseReader } from '../providers/types.js';

/** Events of one read framed one at a time, while the envelope cache has nothing to match with yet, so that it can learn. */
const LEARN_PER_READ = 8;

export interface DecodeOptions extends FramingOptions {
  /** The upstream response's Content-Type; when absent the first bytes decide the framing. */
  contentType?: string;
  /** The upstream HTTP status (default 200). A non-2xx body is read as the provider's error. */
  status?: number;
  /** Force one framing instead of detecting it. */
  framing?: FramingName;
  /** The inference endpoint id, named in errors as Elasticsearch does. */
  inferenceId?: string;
  /** How much of a non-2xx body is kept to find the provider's message. Default 64 KiB. */
  maxErrorBodyBytes?: number;
  /** The upstream response's headers: a rate-limit error quotes the provider's rate-limit headers, as Elasticsearch does. */
  headers?: ResponseHeaders;
  /** The request URL, named by a 404 ("Resource not found at [...]"); credentials in its query are not printed. */
  url?: string;
  /** What the request told the reader (DashScope: incremental or cumulative text); the reader guesses when absent. */
  readerOptions?: ReaderOptions;
}

/**
 * One provider response body, bytes to delta objects, with no stream in between:
 * framing and normalizing run in the caller's write, so the composed streams add no hop.
 * `write` and `end` throw an InferenceError; the deltas appended to `out` before the
 * throw are still valid and must be delivered first.
 */
export class BodyDecoder {
  private readonly provider: ResponseReader;
  private readonly framer: FrameDecoder;
  private readonly normalizer: EventNormalizer;
  private readonly status: number;
  private readonly inferenceId: string | undefined;
  private readonly headers: ResponseHeaders;
  private readonly url: string | undefined;
  private out: DeltaObject[] = [];
  private errorBody: Buffer[] | null = null;
  private errorBodyBytes = 0;
  private readonly maxErrorBodyBytes: number;
  /** Called after each frame's deltas were appended (the chat output makes one chunk per provider event). */
  protected afterFrame: ((out: DeltaObject[]) => void) | null = null;
  private readonly onFrame = (frame: Frame): void => {
    // Nothing after the provider's end marker may change the outcome.
    if (this.finished()) return;
    this.normalizer.frame(frame, this.out);
    if (this.afterFrame !== null) this.afterFrame(this.out);
  };
  /**
   * Where answer texts read by the byte-level fast path go as their JSON string tokens,
   * for an output that copies them as they are (null: as delta objects, the default).
   */
  tokens: TokenSink | null = null;
  /** The normalizer's envelope cache, for the byte-level fast path (undefined: off). */
  private cache: ShapeCache | undefined;
  private syntax: (FrameDecoder & FrameSyntax) | null = null;
  private readonly maxFrameBytes: number;
  /** The envelope cache the framing's payload reader uses (AWS event stream), once set up. */
  private payloadCache: ShapeCache | undefined;
  /**
   * Event payloads of the remembered shape, read from the bytes by a framing that finds
   * payloads itself; texts go out as tokens only from the read itself (a buffer the framing
   * reuses would be overwritten before they are written).
   */
  private readonly onPayload = (buf: Buffer, from: number, to: number, event: string, inRead: boolean): boolean => {
    if (this.finished()) return false;
    const shape = this.payloadCache!.payloadShape(event);
    if (shape === null || shape.match(buf, from, to, this.out, inRead ? this.tokens : null, true) < 0) return false;
    this.payloadCache!.hit();
    if (this.afterFrame !== null) this.afterFrame(this.out);
    return true;
  };
  /** JSON values of the remembered shape (streamed arrays), read from the bytes by the framing's value reader. */
  private readonly onValue = (buf: Buffer, from: number, limit: number): number => {
    if (this.finished()) return MISS;
    const cache = this.payloadCache!;
    const shape = cache.payloadShape('message');
    if (shape === null) return MISS;
    const end = shape.match(buf, from, limit, this.out, this.tokens);
    if (end >= 0) {
      cache.hit();
      if (this.afterFrame !== null) this.afterFrame(this.out);
    }
    return end;
  };
  private misses = 0;
  /** Reads to leave to the plain path after the fast path kept missing; doubles each time. */
  private rest = 0;
  private nextRest = 16;

  /** Throws for an unknown provider id, naming the known ones. */
  constructor(provider: ProviderId | ResponseReader, options: DecodeOptions = {}) {
    this.provider = resolveReader(provider);
    this.status = options.status ?? 200;
    this.inferenceId = options.inferenceId;
    this.headers = options.headers ?? {};
    this.url = options.url;
    this.maxErrorBodyBytes = options.maxErrorBodyBytes ?? 64 * 1024;
    const framing =
      this.provider.rawJson === true && options.rawJson === undefined ? { ...options, rawJson: true } : options;
    this.framer = options.framing
      ? createFrameDecoder(options.framing, framing)
      : new DetectingDecoder(options.contentType, framing);
    this.normalizer = this.provider.createNormalizer(options.readerOptions);
    this.cache = this.normalizer.envelopeCache;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (this.status < 200 || this.status > 299) this.errorBody = [];
  }

  /** Decodes one read of the body, appending delta objects to `out`; throws an InferenceError. */
  write(chunk: Buffer, out: DeltaObject[]): void {
    if (this.errorBody !== null) {
      const room = this.maxErrorBodyBytes - this.errorBodyBytes;
      if (room > 0) {
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        this.errorBody.push(part);
        this.errorBodyBytes += part.length;
      }
      return;
    }
    if (this.finished()) return; // the rest of the body is not read
    this.out = out;
    try {
      const cache = this.cache;
      if (cache === undefined || this.rest > 0) {
        if (this.rest > 0) this.rest--;
        this.framer.write(chunk, this.onFrame);
      } else {
        this.fast(chunk, cache, out);
      }
    } catch (err) {
      // A broken frame after the end marker (a partial line too long, a bad AWS frame) changes nothing either.
      if (!this.finished()) throw err;
    }
  }

  /** End of the body: what is left, or the provider's error for a non-2xx body; throws an InferenceError. */
  end(out: DeltaObject[]): void {
    if (this.errorBody !== null) throw this.statusError();
    this.out = out;
    if (this.finished()) {
      this.normalizer.end(out, false);
      return;
    }
    const truncated = this.framer.end(this.onFrame);
    this.normalizer.end(out, truncated);
  }

  /**
   * The byte-level fast path: while the framing is between events, whole events that have
   * the envelope the normalizer's cache remembers are read straight from the bytes (no
   * decoding of the event, no frame, no JSON.parse); any other event, and whatever the
   * framing is in the middle of, goes through the framing and the normalizer as usual.
   */
  private fast(chunk: Buffer, cache: ShapeCache, out: DeltaObject[]): void {
    const n = chunk.length;
    const framer = this.framer;
    let p = 0;
    /** Events framed one by one in this read so that the cache can learn from them. */
    let learning = 0;
    while (p < n) {
      const syntax = this.syntax ?? this.resolveSyntax(chunk);
      if (syntax === null) break;
      if (syntax.idle!()) {
        const shape = cache.bytes(syntax);
        if (shape !== null) {
          const end = shape.match(chunk, p, p + this.maxFrameBytes < n ? p + this.maxFrameBytes : n, out, this.tokens);
          if (end >= 0) {
            this.misses = 0;
            cache.hit();
            p = end;
            // One event read: the same per-event hook as when it is framed.
            if (this.afterFrame !== null) this.afterFrame(out);
            continue;
          }
          if (end === INCOMPLETE) break;
          if (++this.misses >= 4) {
            // The bytes keep differing from what the cache reads (another line end, field order…): rest.
            this.misses = 0;
            this.rest = this.nextRest;
            this.nextRest = Math.min(this.nextRest * 2, 4096);
            break;
          }
        } else if (!cache.learning || ++learning > LEARN_PER_READ) {
          // Nothing to match with, and nothing to learn from soon: the rest of the read goes to the framing at once.
          break;
        }
      }
      // One event through the framing (or up to where the framing is between events again).
      const e = syntax.frameEnd!(chunk, p);
      const to = e === -1 ? n : e;
      framer.write(p === 0 && to === n ? chunk : chunk.subarray(p, to), this.onFrame);
      p = to;
      // The end marker was read: the rest of the body is not.
      if (this.finished()) return;
    }
    if (p < n) framer.write(p === 0 ? chunk : chunk.subarray(p), this.onFrame);
  }

  /** The framing in use, once known, when it supports the fast path; null when it does not (the fast path is then off). */
  private resolveSyntax(chunk: Buffer): (FrameDecoder & FrameSyntax) | null {
    const f = this.framer instanceof DetectingDecoder ? this.framer.choose(chunk, this.onFrame) : this.framer;
    if (f === null) return null; // not decided yet: retried on the next read
    if (f.idle === undefined || f.canonical === undefined || f.frameEnd === undefined) {
      // A framing that finds payloads itself reads the remembered shape from them; the read-level fast path is off.
      if (f.payloadReader !== undefined) {
        this.payloadCache = this.cache;
        f.payloadReader = this.onPayload;
      } else if (f.valueReader !== undefined) {
        this.payloadCache = this.cache;
        f.valueReader = this.onValue;
      }
      this.cache = undefined;
      return null;
    }
    this.syntax = f as FrameDecoder & FrameSyntax;
    return this.syntax;
  }

  private finished(): boolean {
    return this.normalizer.finished === true;
  }

  private statusError(): InferenceError {
    const text = Buffer.concat(this.errorBody!, this.errorBodyBytes).toString('utf8');
    const body = parseErrorBody(text);
    // Only a JSON body adds the provider's message, as in Elasticsearch; a non-JSON body (an HTML page, plain text) adds nothing.
    const message = body === undefined ? undefined : this.provider.errorMessage(body);
    return providerStatusError(
      this.provider.failureWords ?? defaultWords,
      { status: this.status, headers: this.headers, url: printableUrl(this.url), message },
      this.inferenceId,
    );
  }
}

/** JSON when it is JSON; the JSON of `data:` lines when an error came SSE-framed; else undefined. */
function parseErrorBody(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    for (const line of trimmed.split(/\r\n|\r|\n/)) {
      if (!line.startsWith('data:')) continue;
      try {
        return JSON.parse(line.slice(5).trim());
      } catch {
        // not this line
      }
    }
    return undefined;
  }
}
