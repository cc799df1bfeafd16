import type { Frame, FrameTemplate } from '../framing/frame.js';
import { pushText } from './common.js';
import type { DeltaObject } from './types.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Consecutive misses before the cache rests. */
const MISSES_BEFORE_REST = 4;
/** Events the cache rests for after its first run of misses; doubles every time, up to MAX_REST. */
const FIRST_REST = 16;
const MAX_REST = 4096;

/** What fills a gap between two remembered pieces of an envelope. */
const enum Hole {
  /** The answer text: one complete JSON string token, escapes allowed. */
  Text,
  /** A padding value that varies and is never read: one plain JSON string token (no escapes). */
  Pad,
  /** An optional trailing padding member: `,"key":"plain"` present or absent before the object's last `}`. */
  OptionalPad,
  /**
   * A count that varies from event to event (token usage) and is read only as the latest
   * value: a JSON integer of 1 to 15 digits (no sign, fraction or exponent).
   */
  Count,
}

/** Most digits a count hole takes: every such integer is exact as a double. */
const MAX_COUNT_DIGITS = 15;

/** Returned by {@link ByteShape.match} when the read ends before the event could be told apart. */
export const INCOMPLETE = -2;
/** Returned by {@link ByteShape.match} when the bytes do not have the remembered shape. */
export const MISS = -1;

/** A framing that can say how it writes a frame (SSE, NDJSON). */
export interface FrameSyntax {
  canonical(event: string): FrameTemplate | null;
}

/** A payload with nothing around it. */
const PAYLOAD: FrameSyntax = { canonical: () => ({ head: '', end: '' }) };

const SPACE = 0x20;
const DIGIT_0 = 0x30;

/**
 * Streaming chunks of one response usually repeat the same envelope byte for byte and
 * differ only in one string: the text, and sometimes a padding string that changes every
 * time (OpenAI's `obfuscation`, Bedrock's `p`, Ollama's `created_at`). This remembers the
 * envelope around the text from an event that was fully parsed, so that the next events
 * of the same shape need no JSON.parse of the whole chunk.
 *
 * It is exact, not a heuristic: an event is read this way only when its bytes are the
 * remembered pieces with, in the gaps, one complete JSON string token (the text) and
 * plain JSON string tokens (the padding, a field the normalizer never reads), or, for an
 * optional padding member, the same member present or absent before the object's closing
 * brace. Such an event parses to the remembered object with those values replaced (and a
 * member the normalizer never reads added or removed), so it yields what the full parse
 * would. Learning requires that the text's key occurs once, literally (no backslash
 * anywhere in the envelope, so no key is spelled with escapes), immediately followed by
 * the string that the full parse turned into the answer text. Anything else takes the
 * normal path.
 *
 * Counts (token usage that grows every chunk, Gemini's `usageMetadata`) may vary too: an
 * event read from the remembered shape leaves its counts with the cache, and the
 * normalizer takes the last such event's envelope back with {@link ShapeCache.settle}
 * before it reads another event in full, or at the end, so that what it keeps of them is
 * what the full parse would have kept.
 *
 * A miss costs one failed comparison; after a few misses in a row the cache rests (it
 * neither matches nor learns) for 16 events, then 32, … up to 4096, so a stream whose
 * envelope never repeats pays for almost nothing but its full parses.
 */
export class ShapeCache {
  /** Remembered pieces: `pieces[0] hole[0] pieces[1] hole[1] … pieces[last]`. */
  private pieces: string[] = [];
  private holes: Hole[] = [];
  private event = '';
  private known = false;
  private misses = 0;
  private rest = 0;
  private nextRest = FIRST_REST;
  /** Bumped on every learn, so compiled byte shapes know they are stale. */
  private version = 0;
  private compiled: ByteShape | null = null;
  private readonly optionalKey: string | undefined;
  /** Count holes in the remembered shape. */
  private countHoles = 0;
  /**
   * The remembered pieces hold no line end (CR or LF). A shape learned from data that did
   * (JSON over several SSE `data:` lines) has no byte form in a line-based framing: there
   * a line end starts a new field, so the same bytes would not be the same event.
   */
  private lineFree = true;
  /** The counts of the last event read from the shape, not yet settled (see settle). */
  private readonly lastCounts: number[] = [];
  private unsettled = false;
  /** Counts of the event being matched (text form). */
  private readonly matching: number[] = [];

  /**
   * @param keyToken the text field's key as it appears on the wire, e.g. `"content":`
   * @param paddingToken a key whose plain string value varies and is never read, e.g. `"obfuscation":`
   * @param paddingOptional whether the padding member may come and go from one event to the next
   *   (it is then the last member of the top-level object when present)
   * @param refuse tokens that mark an event the normalizer keeps state from (tool calls): never learned from
   * @param countTokens keys whose integer values vary and are read only as the latest (usage counts),
   *   e.g. `"totalTokenCount":`; the normalizer must then call {@link settle}
   */
  constructor(
    private readonly keyToken: string,
    private readonly paddingToken?: string,
    paddingOptional = false,
    private readonly refuse: readonly string[] = [],
    private readonly countTokens: readonly string[] = [],
  ) {
    this.optionalKey = paddingOptional && paddingToken !== undefined ? ',' + paddingToken : undefined;
  }

  /** Reads the event from the remembered shape when it fits: appends its text and returns true. */
  take(frame: Frame, out: DeltaObject[]): boolean {
    if (!this.known) {
      if (this.rest > 0) this.rest--;
      return false;
    }
    const text = this.match(frame);
    if (text === undefined) return false;
    pushText(out, text);
    return true;
  }

  /** After a full parse that appended `out[before…]`: learns the shape when that was exactly one answer text. */
  observe(frame: Frame, out: DeltaObject[], before: number): void {
    if (out.length !== before + 1 || this.rest > 0) return;
    const text = (out[before] as { delta?: unknown }).delta;
    if (typeof text === 'string') this.learn(frame, text);
  }

  /** The text when the event has the remembered shape; undefined otherwise. */
  match(frame: Frame): string | undefined {
    if (!this.known) return undefined;
    if (frame.event !== this.event) return this.miss();
    const data = frame.data;
    const pieces = this.pieces;
    const holes = this.holes;
    let i = 0;
    let text: string | undefined;
    let counted = 0;
    for (let k = 0; k < holes.length; k++) {
      const piece = pieces[k]!;
      // Slice-and-compare is a native memcmp; startsWith walks characters (10x slower here).
      if (data.slice(i, i + piece.length) !== piece) return this.miss();
      i += piece.length;
      const hole = holes[k]!;
      if (hole === Hole.Text) {
        if (data.charCodeAt(i) !== QUOTE) return this.miss();
        let escaped = false;
        let j = i + 1;
        for (; j < data.length; j++) {
          const c = data.charCodeAt(j);
          if (c === QUOTE) break;
          if (c === BACKSLASH) {
            escaped = true;
            j++;
          } else if (c < 0x20) return this.miss();
        }
        if (j >= data.length) return this.miss();
        if (escaped) {
          // The token starts and ends with a quote; parsing it as a string proves it is one token.
          text = parseToken(data.slice(i, j + 1));
          if (text === undefined) return this.miss();
        } else {
          text = data.slice(i + 1, j);
        }
        i = j + 1;
      } else if (hole === Hole.Pad) {
        const close = plainStringEnd(data, i);
        if (close === -1) return this.miss();
        i = close + 1;
      } else if (hole === Hole.Count) {
        let v = 0;
        let j = i;
        for (; j < data.length; j++) {
          const d = data.charCodeAt(j) - DIGIT_0;
          if (d < 0 || d > 9) break;
          v = v * 10 + d;
        }
        if (!countDigits(j - i, data.charCodeAt(i))) return this.miss();
        this.matching[counted++] = v;
        i = j;
      } else if (data.startsWith(this.optionalKey!, i)) {
        const close = plainStringEnd(data, i + this.optionalKey!.length);
        if (close === -1) return this.miss();
        i = close + 1;
      }
    }
    if (data.length - i !== pieces[holes.length]!.length || data.slice(i) !== pieces[holes.length]) return this.miss();
    this.misses = 0;
    if (counted > 0) this.counts(this.matching);
    return text;
  }

  /** After a full parse whose only output was `value`, taken from this field: remember the shape. */
  learn(frame: Frame, value: string): void {
    if (this.rest > 0 || frame.raw === true) return;
    const data = frame.data;
    for (let i = 0; i < this.refuse.length; i++) if (data.indexOf(this.refuse[i]!) !== -1) return;
    const key = data.indexOf(this.keyToken);
    if (key === -1 || data.indexOf(this.keyToken, key + 1) !== -1) return;
    // Pretty-printed JSON (Gemini) puts a space after the colon: it is part of the piece before the text.
    let start = key + this.keyToken.length;
    while (data.charCodeAt(start) === SPACE) start++;
    if (data.charCodeAt(start) !== QUOTE) return;
    const end = closingQuote(data, start + 1);
    if (end === -1 || parseToken(data.slice(start, end + 1)) !== value) return;
    // Gaps as [from, to, kind], in order.
    const gaps: [number, number, Hole][] = [[start, end + 1, Hole.Text]];
    let optionalAt = -1;
    if (this.paddingToken !== undefined) {
      const pad = data.indexOf(this.paddingToken);
      if (pad !== -1) {
        if (data.indexOf(this.paddingToken, pad + 1) !== -1) return;
        let open = pad + this.paddingToken.length;
        while (data.charCodeAt(open) === SPACE) open++;
        const close = plainStringEnd(data, open);
        if (close === -1 || (open <= end && close >= start)) return;
        // Optional only where it can come and go: `,"key":"…"` right before the object's last brace.
        if (
          this.optionalKey !== undefined &&
          data.charCodeAt(pad - 1) === 0x2c &&
          close + 2 === data.length &&
          data.charCodeAt(close + 1) === 0x7d
        ) {
          gaps.push([pad - 1, close + 1, Hole.OptionalPad]);
        } else {
          gaps.push([open, close + 1, Hole.Pad]);
        }
      } else if (this.optionalKey !== undefined) {
        // Absent this time: it may be added before the last brace of a non-empty object.
        const last = data.length - 1;
        const before = data.charCodeAt(last - 1);
        if (data.charCodeAt(last) !== 0x7d || before === 0x7b || before === 0x2c || last <= end) return;
        optionalAt = last;
      }
    }
    if (optionalAt !== -1) gaps.push([optionalAt, optionalAt, Hole.OptionalPad]);
    // Every occurrence of a count key is a hole (a key token cannot occur inside a string value:
    // its quotes would be escaped there).
    let countHoles = 0;
    for (const token of this.countTokens) {
      for (let at = data.indexOf(token); at !== -1; at = data.indexOf(token, at + token.length)) {
        let from = at + token.length;
        while (data.charCodeAt(from) === SPACE) from++;
        let to = from;
        while (to < data.length && data.charCodeAt(to) >= DIGIT_0 && data.charCodeAt(to) <= DIGIT_0 + 9) to++;
        if (to === from) continue; // not an integer here (null, a string…): it stays in the piece, as it is
        if (!countDigits(to - from, data.charCodeAt(from))) return;
        gaps.push([from, to, Hole.Count]);
        countHoles++;
      }
    }
    gaps.sort((a, b) => a[0] - b[0]);
    const pieces: string[] = [];
    const holes: Hole[] = [];
    let at = 0;
    for (const [from, to, kind] of gaps) {
      if (from < at) return; // overlapping gaps: not a shape this cache can read
      pieces.push(data.slice(at, from));
      holes.push(kind);
      at = to;
    }
    pieces.push(data.slice(at));
    for (const p of pieces) if (p.indexOf('\\') !== -1) return;
    this.pieces = pieces;
    this.holes = holes;
    this.countHoles = countHoles;
    this.lineFree = pieces.every((p) => p.indexOf('\n') === -1 && p.indexOf('\r') === -1);
    this.event = frame.event;
    this.known = true;
    this.version++;
  }

  /** Keeps the counts of an event just read from the shape (both forms call this on a hit). */
  counts(values: readonly number[]): void {
    const last = this.lastCounts;
    for (let k = 0; k < this.countHoles; k++) last[k] = values[k]!;
    this.unsettled = true;
  }

  /**
   * The envelope of the last event read from the shape since the last call, as JSON text
   * with its counts and with empty strings for its text and padding (which it was read
   * for already); undefined when there is none or the shape has no counts. A normalizer
   * that keeps counts (usage) calls this before reading an event in full and at the end,
   * and reads the counts from it as from that event.
   */
  settle(): string | undefined {
    if (!this.unsettled) return undefined;
    this.unsettled = false;
    const pieces = this.pieces;
    const holes = this.holes;
    let text = pieces[0]!;
    let c = 0;
    for (let k = 0; k < holes.length; k++) {
      const hole = holes[k]!;
      if (hole === Hole.Count) text += String(this.lastCounts[c++]);
      else if (hole !== Hole.OptionalPad) text += '""';
      text += pieces[k + 1]!;
    }
    return text;
  }

  /**
   * The remembered shape as bytes framed the way `syntax` writes a frame, for matching
   * whole events in a read before any framing; null when nothing is remembered or the
   * framing cannot say how it writes this event.
   */
  bytes(syntax: FrameSyntax): ByteShape | null {
    if (!this.known || (!this.lineFree && syntax !== PAYLOAD)) return null;
    const c = this.compiled;
    if (c !== null && c.version === this.version && c.syntax === syntax) return c;
    const frame = syntax.canonical(this.event);
    if (frame === null) return null;
    const pieces = this.pieces.map((p, k) =>
      Buffer.from((k === 0 ? frame.head : '') + p + (k === this.pieces.length - 1 ? frame.end : '')),
    );
    this.compiled = new ByteShape(
      this.version,
      syntax,
      pieces,
      this.holes,
      this.optionalKey === undefined ? null : Buffer.from(this.optionalKey),
      this.countHoles > 0 ? this : null,
    );
    return this.compiled;
  }

  /**
   * The remembered shape of a payload alone (no framing around it), for a framing that
   * finds payloads itself (AWS event stream); null unless an event named `event` is remembered.
   */
  payloadShape(event: string): ByteShape | null {
    return this.known && event === this.event ? this.bytes(PAYLOAD) : null;
  }

  /** Nothing remembered, but the next event read in full may be learned from (the cache is not resting). */
  get learning(): boolean {
    return !this.known && this.rest === 0;
  }

  /** An event was read from the bytes with this shape: the run of misses is over. */
  hit(): void {
    this.misses = 0;
  }

  private miss(): undefined {
    this.known = false;
    // Counts held for settling stay valid: they belong to an event read before this one.
    if (++this.misses >= MISSES_BEFORE_REST) {
      this.misses = 0;
      this.rest = this.nextRest;
      this.nextRest = Math.min(this.nextRest * 2, MAX_REST);
    }
    return undefined;
  }
}

/**
 * A remembered shape in bytes, framing included: matches whole events in a read without
 * decoding or framing them. Exact for the same reasons as the text form, provided the
 * framing is between events when a match starts (the caller's job) and the bytes matched
 * contain no line end inside the gaps (control characters are refused in every gap).
 */
export class ByteShape {
  constructor(
    readonly version: number,
    readonly syntax: FrameSyntax,
    private readonly pieces: Buffer[],
    private readonly holes: Hole[],
    private readonly optionalKey: Buffer | null,
    /** The cache that keeps the counts of a matched event, when the shape has count holes. */
    private readonly owner: ShapeCache | null = null,
  ) {}

  /** Counts of the event being matched. */
  private readonly matching: number[] = [];

  /**
   * Matches one event at `buf[p…]` (not beyond `limit`; ending exactly there when `whole`):
   * on a match appends the text to `out` (or hands its token to `sink`, see {@link TokenSink})
   * and returns the end of the event; else MISS, or INCOMPLETE when the read ends first.
   */
  match(
    buf: Buffer,
    p: number,
    limit: number,
    out: DeltaObject[],
    sink: TokenSink | null = null,
    whole = false,
  ): number {
    const pieces = this.pieces;
    const holes = this.holes;
    let i = p;
    let from = 0;
    let to = 0;
    let flags = 0;
    let counted = 0;
    for (let k = 0; k < holes.length; k++) {
      const r = same(buf, i, limit, pieces[k]!);
      if (r !== 0) return r;
      i += pieces[k]!.length;
      if (i >= limit) return INCOMPLETE;
      const hole = holes[k]!;
      if (hole === Hole.Text) {
        if (buf[i] !== QUOTE) return MISS;
        from = i;
        let j = i + 1;
        for (; j < limit; j++) {
          const c = buf[j]!;
          if (c === QUOTE) break;
          if (c === BACKSLASH) {
            flags |= 1;
            // Only the escapes JSON.stringify writes for these characters keep the token as it is.
            if (!SHORT_ESCAPE[buf[++j]!]) flags |= 4;
          } else if (c < 0x20) return MISS;
          else if (c >= 0x80) {
            flags |= 2;
            const e = utf8End(buf, j, limit);
            if (e < 0) flags |= 4;
            else j = e - 1;
          }
        }
        if (j >= limit) return INCOMPLETE;
        to = j + 1;
        i = to;
      } else if (hole === Hole.Pad) {
        const close = plainEnd(buf, i, limit);
        if (close < 0) return close;
        i = close + 1;
      } else if (hole === Hole.Count) {
        let v = 0;
        let j = i;
        for (; j < limit; j++) {
          const d = buf[j]! - DIGIT_0;
          if (d < 0 || d > 9) break;
          v = v * 10 + d;
        }
        if (j >= limit) return INCOMPLETE;
        if (!countDigits(j - i, buf[i]!)) return MISS;
        this.matching[counted++] = v;
        i = j;
      } else {
        const key = this.optionalKey!;
        if (buf[i] === key[0]) {
          const r2 = same(buf, i, limit, key);
          if (r2 === INCOMPLETE) return INCOMPLETE;
          if (r2 === 0) {
            const close = plainEnd(buf, i + key.length, limit);
            if (close < 0) return close;
            i = close + 1;
          }
        }
      }
    }
    const last = pieces[holes.length]!;
    const r = same(buf, i, limit, last);
    if (r !== 0) return r;
    // `whole`: the event must end at the limit (a payload found by its framing), or it is another shape.
    if (whole && i + last.length !== limit) return MISS;
    let text: string | undefined;
    // An escape other than those JSON.stringify writes may not be valid: the token is parsed before anything is kept.
    // (With only those escapes and valid UTF-8, the token is a valid string.)
    if ((flags & 5) === 5) {
      text = parseToken(buf.toString('utf8', from, to));
      if (text === undefined) return MISS;
    }
    if (counted > 0) this.owner!.counts(this.matching);
    // The token is what JSON.stringify writes for its text: it may go to the output as it is.
    if (sink !== null && (flags & 4) === 0 && sink.token(buf, from, to, out)) return i + last.length;
    // ASCII decodes the same as latin1, which is cheaper; UTF-8 errors become U+FFFD as when the read is decoded whole.
    text ??=
      flags & 1
        ? parseToken(buf.toString('utf8', from, to))!
        : buf.toString(flags & 2 ? 'utf8' : 'latin1', from + 1, to - 1);
    pushText(out, text);
    return i + last.length;
  }
}

/**
 * Takes answer texts as the JSON string tokens they are on the wire, for an output that
 * writes them as they are. A token is offered only when it is byte for byte what
 * JSON.stringify writes for its text: no escapes other than the two-character ones
 * JSON.stringify uses (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`), and valid UTF-8.
 */
export interface TokenSink {
  /**
   * The token is `buf[from…to)`, quotes included; `out` holds the deltas decoded before it
   * in this read, which must go first. Returns false to get the text as a delta object instead.
   */
  token(buf: Buffer, from: number, to: number, out: DeltaObject[]): boolean;
}

/** Bytes after a backslash that make an escape JSON.stringify writes the same way. */
const SHORT_ESCAPE: readonly boolean[] = (() => {
  const t: boolean[] = new Array(256).fill(false);
  for (const c of '"\\bfnrt') t[c.charCodeAt(0)] = true;
  return t;
})();

/**
 * The end of the UTF-8 sequence that starts at `buf[j]` (a byte ≥ 0x80); -1 when it is not
 * valid UTF-8 (where decoding writes U+FFFD); `limit` when the read ends inside it.
 */
function utf8End(buf: Buffer, j: number, limit: number): number {
  const c = buf[j]!;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 2;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return -1;
  if (j + 1 >= limit) return limit;
  const d = buf[j + 1]!;
  if (d < lo || d > hi) return -1;
  for (let k = 2; k <= n; k++) {
    if (j + k >= limit) return limit;
    const e = buf[j + k]!;
    if (e < 0x80 || e > 0xbf) return -1;
  }
  return j + n + 1;
}

/**
 * Pieces up to this many bytes are compared byte by byte: Buffer#compare costs about 70 ns
 * of argument checks and a native call whatever the length, the loop about 1 ns a byte.
 */
const SHORT_COMPARE = 64;

/** 0 when `buf` holds `piece` at `at`; MISS when it differs; INCOMPLETE when the read ends inside a matching start. */
function same(buf: Buffer, at: number, limit: number, piece: Buffer): number {
  const n = piece.length;
  const avail = limit - at;
  if (avail < n) {
    if (avail <= 0) return INCOMPLETE;
    return buf.compare(piece, 0, avail, at, limit) === 0 ? INCOMPLETE : MISS;
  }
  if (n <= SHORT_COMPARE) {
    for (let k = 0; k < n; k++) if (buf[at + k] !== piece[k]) return MISS;
    return 0;
  }
  return buf.compare(piece, 0, n, at, at + n) === 0 ? 0 : MISS;
}

/** For a plain string token opening at `open`: its closing quote; MISS if not plain; INCOMPLETE if the read ends first. */
function plainEnd(buf: Buffer, open: number, limit: number): number {
  if (open >= limit) return INCOMPLETE;
  if (buf[open] !== QUOTE) return MISS;
  for (let i = open + 1; i < limit; i++) {
    const c = buf[i]!;
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 0x20) return MISS;
  }
  return INCOMPLETE;
}

function parseToken(token: string): string | undefined {
  try {
    const value: unknown = JSON.parse(token);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Index of the quote that closes a JSON string whose content starts at `from`, or -1. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return -1;
}

/**
 * For a string token opening at `open` (a quote): the index of its closing quote when
 * the content is plain (no escapes, no control characters), else -1.
 */
function plainStringEnd(text: string, open: number): number {
  if (text.charCodeAt(open) !== QUOTE) return -1;
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 0x20) return -1;
  }
  return -1;
}

/** Whether `digits` digits starting with the character code `first` are a count: 1 to 15 digits, no leading zero. */
function countDigits(digits: number, first: number): boolean {
  return digits > 0 && digits <= MAX_COUNT_DIGITS && (digits === 1 || first !== DIGIT_0);
}
