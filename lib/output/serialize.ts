import { Transform, type TransformCallback } from 'node:stream';
import { errorBody, toInferenceError, type InferenceError } from '../errors.js';
import type { TextDelta } from '../providers/types.js';

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

const HEAD = Buffer.from('event: message\ndata: {"completion":[');
const HEAD_BOM = Buffer.from(BOM + 'event: message\ndata: {"completion":[');
const TAIL = Buffer.from(']}\n\n');
const DELTA = Buffer.from('{"delta":');
/** Events are written into shared blocks of this size (as Node pools small Buffers); larger ones get their own. */
const BLOCK = 16 * 1024;

/**
 * Writes `completion` events as bytes, byte for byte what {@link completionEvent} returns,
 * straight into a shared block of memory: a plain text (ASCII, nothing to escape) is
 * copied as it is, anything else is written by Buffer.write or JSON.stringify. No
 * intermediate string per event, and one Buffer object per event.
 */
export class CompletionEventWriter {
  private block: Buffer = Buffer.allocUnsafe(0);
  private used = 0;
  private readonly head: Buffer;

  constructor(bom = false) {
    this.head = bom ? HEAD_BOM : HEAD;
  }

  /** The event for `texts[0…count)`. */
  write(texts: readonly string[], count: number): Buffer {
    // Upper bound: every UTF-16 unit takes at most 6 bytes (a \uXXXX escape).
    let bound = this.head.length + TAIL.length;
    for (let i = 0; i < count; i++) bound += 12 + texts[i]!.length * 6;
    let buf: Buffer;
    let o: number;
    if (bound > BLOCK / 4) {
      buf = Buffer.allocUnsafe(bound);
      o = 0;
    } else {
      if (bound > this.block.length - this.used) {
        this.block = Buffer.allocUnsafe(BLOCK);
        this.used = 0;
      }
      buf = this.block;
      o = this.used;
    }
    const start = o;
    buf.set(this.head, o);
    o += this.head.length;
    for (let i = 0; i < count; i++) {
      if (i > 0) buf[o++] = 0x2c;
      buf.set(DELTA, o);
      o = writeJsonString(buf, o + DELTA.length, texts[i]!);
      buf[o++] = 0x7d;
    }
    buf.set(TAIL, o);
    o += TAIL.length;
    if (buf === this.block) this.used = o;
    return buf.subarray(start, o);
  }
}

/** Writes JSON.stringify(text) at `o` and returns the end; ASCII text with nothing to escape is copied directly. */
function writeJsonString(buf: Buffer, o: number, text: string): number {
  const start = o;
  buf[o++] = 0x22;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return writeJsonStringSlow(buf, start, text, i);
    buf[o++] = c;
  }
  buf[o++] = 0x22;
  return o;
}

function writeJsonStringSlow(buf: Buffer, o: number, text: string, from: number): number {
  if (needsEscape(text, from)) return o + buf.write(JSON.stringify(text), o);
  buf[o++] = 0x22;
  o += buf.write(text, o);
  buf[o++] = 0x22;
  return o;
}

/** Whether JSON.stringify would escape anything from `from` on: quote, backslash, control characters, lone surrogates. */
function needsEscape(text: string, from: number): boolean {
  const n = text.length;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return true;
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c >= 0xdc00) return true;
      const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return true;
      i++;
    }
  }
  return false;
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
