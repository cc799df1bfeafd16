import { Transform, type TransformCallback } from 'node:stream';
import { errorBody, toInferenceError, type InferenceError } from '../errors.js';
import type { TextDelta } from '../providers/types.js';
import type { HeldTokens } from './batcher.js';

const BOM = '\uFEFF';

export interface SerializeOptions {
  /** Prefix every event with U+FEFF, byte for byte as Elasticsearch writes it. Default false. */
  bom?: boolean;
}

/** `event: message` + `data: {"completion":[{"delta":"…"},…]}` for answer texts, compact JSON. */
export function completionEvent(texts: readonly string[], bom = false): string {
  let json = '{"completion":[';
  for (let i = 0; i < texts.length; i++) {
    if (i > 0) json += ',';
    json += '{"delta":' + JSON.stringify(texts[i]) + '}';
  }
  return (bom ? BOM : '') + 'event: message\ndata: ' + json + ']}\n\n';
}

/** An event's start up to its first text: `event: message`, `data: {"completion":[{"delta":`. */
const HEAD = Buffer.from('event: message\ndata: {"completion":[{"delta":');
const HEAD_BOM = Buffer.from(BOM + 'event: message\ndata: {"completion":[{"delta":');
/** `}]}` and the blank line: the end of the last delta and of the event. */
const TAIL_LENGTH = 6;
/** `},{"delta":` between two texts. */
const NEXT = Buffer.from('},{"delta":');
/** Events are written into blocks of at least this size (as Node pools small Buffers), larger for large events. */
const BLOCK = 16 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * The block every writer of this process writes into, and how much of it is used: like
 * Node's pool for small Buffers, one block serves every stream, so an open stream holds no
 * block of its own. A region handed over is never written again; a full block is left to
 * the Buffers that still point into it.
 */
const shared = { block: EMPTY, used: 0 };
/** The largest block: a larger event (a long batch while the consumer was behind) gets a Buffer of its own. */
const MAX_BLOCK = 256 * 1024;

/**
 * Writes `completion` events as bytes, byte for byte what {@link completionEvent} returns,
 * straight into a block of memory shared by every writer: texts are escaped and UTF-8
 * encoded in one pass, with no intermediate string per event. Events appended one after
 * another stay in one region of the block until {@link take} hands them over as one
 * Buffer, so a burst of events (reads that arrive in the same tick) costs one Buffer and
 * one push downstream, not one each.
 */
export class CompletionEventWriter {
  /** The block this writer's pending events are in: the shared one, unless it was replaced since. */
  private block: Buffer = EMPTY;
  /** The pending events are `block[start…used)`. */
  private start = 0;
  private used = 0;
  private readonly head: Buffer;

  /**
   * @param bom prefix every event with U+FEFF
   * @param sink receives the pending events when they cannot stay in one piece (the block runs out of
   *   room, another writer wrote after them), and events too large for a block
   */
  constructor(
    bom: boolean,
    private readonly sink: (chunk: Buffer) => void,
  ) {
    this.head = bom ? HEAD_BOM : HEAD;
  }

  /** Bytes appended and not taken yet. */
  get pending(): number {
    return this.used - this.start;
  }

  /** Hands over the pending events as one Buffer (null when there are none). */
  take(): Buffer | null {
    if (this.used === this.start) return null;
    const chunk = this.block.subarray(this.start, this.used);
    this.start = this.used;
    return chunk;
  }

  /**
   * Appends the event for `texts[0…count)` (count ≥ 1) to the pending events; an entry
   * that `tokens` holds as a JSON string token is copied as it is.
   */
  append(texts: readonly string[], count: number, tokens: HeldTokens | null = null): void {
    // Upper bound: every UTF-16 unit takes at most 6 bytes (a \uXXXX escape); a token, its own length.
    let bound = this.head.length + TAIL_LENGTH;
    if (tokens === null) for (let i = 0; i < count; i++) bound += 12 + texts[i]!.length * 6;
    else
      for (let i = 0; i < count; i++)
        bound += 12 + (tokens.bufs[i] === undefined ? texts[i]!.length * 6 : tokens.tos[i]! - tokens.froms[i]!);
    // The pending events must stay in one piece: if another writer wrote after them, or the
    // shared block has no room for this event, they go now, in order.
    if (this.block !== shared.block || this.used !== shared.used || bound > shared.block.length - shared.used) {
      const rest = this.take();
      if (rest !== null) this.sink(rest);
      if (bound > shared.block.length - shared.used) {
        if (bound > MAX_BLOCK / 4) {
          const own = Buffer.allocUnsafe(bound);
          this.sink(own.subarray(0, this.event(own, 0, texts, count, tokens)));
          return;
        }
        // A fresh block with room for several events like this one (the bound is about 4 times what a plain text takes).
        let size = BLOCK;
        while (size < bound * 4) size *= 2;
        shared.block = Buffer.allocUnsafe(size);
        shared.used = 0;
      }
      this.block = shared.block;
      this.start = this.used = shared.used;
    }
    this.used = shared.used = this.event(this.block, this.used, texts, count, tokens);
  }

  /** Writes one event at `o`; returns its end. */
  private event(buf: Buffer, o: number, texts: readonly string[], count: number, tokens: HeldTokens | null): number {
    buf.set(this.head, o);
    o += this.head.length;
    for (let i = 0; i < count; i++) {
      if (i > 0) for (let k = 0; k < NEXT.length; k++) buf[o++] = NEXT[k]!;
      const src = tokens === null ? undefined : tokens.bufs[i];
      if (src === undefined) o = writeJsonString(buf, o, texts[i]!);
      else o = copyToken(buf, o, src, tokens!.froms[i]!, tokens!.tos[i]!);
    }
    buf[o++] = 0x7d; // }
    buf[o++] = 0x5d; // ]
    buf[o++] = 0x7d; // }
    buf[o++] = 0x0a;
    buf[o++] = 0x0a;
    return o;
  }
}

/** Below this length a JavaScript loop copies faster than a native copy call. */
const NATIVE_COPY = 64;

/** Copies `src[from…to)` to `buf[o…]` and returns the end. */
function copyToken(buf: Buffer, o: number, src: Buffer, from: number, to: number): number {
  if (to - from >= NATIVE_COPY) return o + src.copy(buf, o, from, to);
  for (let k = from; k < to; k++) buf[o++] = src[k]!;
  return o;
}

const HEX = Buffer.from('0123456789abcdef');

/**
 * Writes the UTF-8 bytes of JSON.stringify(text) at `o` and returns the end, in one pass
 * with no native call: the escapes JSON.stringify writes (`\"`, `\\`, `\b\f\n\r\t`,
 * `\u00XX` for other control characters, `\uDXXX` for a lone surrogate), everything else
 * as UTF-8. The caller reserves 6 bytes per UTF-16 unit.
 */
function writeJsonString(buf: Buffer, o: number, text: string): number {
  buf[o++] = 0x22;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        buf[o++] = c;
        continue;
      }
      buf[o++] = 0x5c;
      switch (c) {
        case 0x22:
        case 0x5c:
          buf[o++] = c;
          break;
        case 0x08:
          buf[o++] = 0x62;
          break;
        case 0x09:
          buf[o++] = 0x74;
          break;
        case 0x0a:
          buf[o++] = 0x6e;
          break;
        case 0x0c:
          buf[o++] = 0x66;
          break;
        case 0x0d:
          buf[o++] = 0x72;
          break;
        default:
          o = writeU(buf, o, c);
      }
    } else if (c < 0x800) {
      buf[o++] = 0xc0 | (c >> 6);
      buf[o++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[o++] = 0xe0 | (c >> 12);
      buf[o++] = 0x80 | ((c >> 6) & 0x3f);
      buf[o++] = 0x80 | (c & 0x3f);
    } else {
      const d = c < 0xdc00 && i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        buf[o++] = 0xf0 | (cp >> 18);
        buf[o++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[o++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[o++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        // A lone surrogate: JSON.stringify escapes it.
        buf[o++] = 0x5c;
        o = writeU(buf, o, c);
      }
    }
  }
  buf[o++] = 0x22;
  return o;
}

/** `uXXXX` (lowercase hex, as JSON.stringify writes it) after a backslash. */
function writeU(buf: Buffer, o: number, c: number): number {
  buf[o++] = 0x75;
  buf[o++] = HEX[c >> 12]!;
  buf[o++] = HEX[(c >> 8) & 15]!;
  buf[o++] = HEX[(c >> 4) & 15]!;
  buf[o++] = HEX[c & 15]!;
  return o;
}

/** The event that ends a clean stream. */
export function doneEvent(bom = false): string {
  return (bom ? BOM : '') + 'event: message\ndata: [DONE]\n\n';
}

/** Elasticsearch's error event; nothing follows it. */
export function errorEvent(err: InferenceError, bom = false): string {
  return (bom ? BOM : '') + 'event: error\ndata: ' + JSON.stringify(errorBody(err)) + '\n\n';
}

/**
 * `completion` arrays (arrays of `{delta}`, as `batch()` writes them) in, Elasticsearch
 * SSE bytes out; `[DONE]` at a clean end. Write an Error (or call `fail`) to end the
 * stream with an error event instead.
 */
export class Serializer extends Transform {
  private readonly bom: boolean;
  private failed = false;

  constructor(options: SerializeOptions = {}) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.bom = options.bom ?? false;
  }

  override _transform(batch: readonly TextDelta[] | Error, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.failed) return callback();
    if (batch instanceof Error) {
      this.fail(batch);
      return callback();
    }
    if (!Array.isArray(batch)) return callback();
    const texts: string[] = [];
    for (const d of batch) if (d && typeof d.delta === 'string' && d.delta.length > 0) texts.push(d.delta);
    if (texts.length > 0) this.push(completionEvent(texts, this.bom));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.failed) this.push(doneEvent(this.bom));
    callback();
  }

  /** Ends the output with Elasticsearch's error event (no `[DONE]` after it). */
  fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.push(errorEvent(toInferenceError(err), this.bom));
    this.push(null);
  }
}

/** `completion` arrays in, Elasticsearch SSE bytes out: `new Serializer(options)`. */
export function serialize(options?: SerializeOptions): Serializer {
  return new Serializer(options);
}
