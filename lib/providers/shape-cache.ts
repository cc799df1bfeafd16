import type { Frame } from '../framing/frame.js';
import { pushText } from './common.js';
import type { DeltaObject } from './types.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Consecutive events that did not fit before a stream stops looking. */
const GIVE_UP_AFTER = 8;

/**
 * Streaming chunks of one response usually repeat the same envelope byte for byte and
 * differ only in one string: the text (and sometimes a random padding string, such as
 * OpenAI's `obfuscation`). This remembers the envelope around the text from an event
 * that was fully parsed, so that the next events of the same shape need no JSON.parse of
 * the whole chunk.
 *
 * It is exact, not a heuristic: an event is read this way only when its bytes are the
 * remembered prefix, one complete JSON string token (the text), the remembered middle,
 * optionally one plain JSON string token (the padding, a field the normalizer never
 * reads), and the remembered tail. Such an event parses to the remembered object with
 * those values replaced, so it yields what the full parse would. Learning requires that
 * the text's key occurs once, literally (no backslash anywhere in the envelope, so no key
 * is spelled with escapes), immediately followed by the string that the full parse turned
 * into the answer text. Anything else takes the normal path.
 */
export class ShapeCache {
  private prefix = '';
  /** Between the text and the padding value (or the whole rest when there is no padding). */
  private middle = '';
  private tail = '';
  private padded = false;
  private event = '';
  private known = false;
  private misses = 0;

  /**
   * @param keyToken the text field's key as it appears on the wire, e.g. `"content":`
   * @param paddingToken a key whose string value varies and is never read, e.g. `"obfuscation":`
   */
  constructor(
    private readonly keyToken: string,
    private readonly paddingToken?: string,
  ) {}

  /** Reads the event from the remembered shape when it fits: appends its text and returns true. */
  take(frame: Frame, out: DeltaObject[]): boolean {
    const text = this.match(frame);
    if (text === undefined) return false;
    pushText(out, text);
    return true;
  }

  /** After a full parse that appended `out[before…]`: learns the shape when that was exactly one answer text. */
  observe(frame: Frame, out: DeltaObject[], before: number): void {
    if (out.length !== before + 1) return;
    const text = (out[before] as { delta?: unknown }).delta;
    if (typeof text === 'string') this.learn(frame, text);
  }

  /** The text when the event has the remembered shape; undefined otherwise. */
  match(frame: Frame): string | undefined {
    if (!this.known) return undefined;
    const data = frame.data;
    const p = this.prefix.length;
    if (frame.event !== this.event || data.charCodeAt(p) !== QUOTE || data.slice(0, p) !== this.prefix) return this.miss();
    // The text token: find its closing quote, noting escapes and rejecting raw control characters.
    const len = data.length;
    let i = p + 1;
    let escaped = false;
    for (; i < len; i++) {
      const c = data.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        i++;
      } else if (c < 0x20) return this.miss();
    }
    if (i >= len) return this.miss();
    // Slice-and-compare is a native memcmp; startsWith/endsWith walk characters (10x slower here).
    let rest = i + 1;
    if (this.padded) {
      const m = this.middle.length;
      if (data.slice(rest, rest + m) !== this.middle) return this.miss();
      const close = plainStringEnd(data, rest + m);
      if (close === -1) return this.miss();
      rest = close + 1;
      if (data.slice(rest) !== this.tail) return this.miss();
    } else if (data.slice(rest) !== this.middle) {
      return this.miss();
    }
    let text: string;
    if (escaped) {
      try {
        // The token starts and ends with a quote; parsing as a string proves it is one token.
        const value: unknown = JSON.parse(data.slice(p, i + 1));
        if (typeof value !== 'string') return this.miss();
        text = value;
      } catch {
        return this.miss();
      }
    } else {
      text = data.slice(p + 1, i);
    }
    this.misses = 0;
    return text;
  }

  /** After a full parse whose only output was `value`, taken from this field: remember the shape. */
  learn(frame: Frame, value: string): void {
    if (this.misses >= GIVE_UP_AFTER || frame.raw === true) return;
    const data = frame.data;
    const key = data.indexOf(this.keyToken);
    if (key === -1 || data.indexOf(this.keyToken, key + 1) !== -1) return;
    const start = key + this.keyToken.length;
    if (data.charCodeAt(start) !== QUOTE) return;
    const end = closingQuote(data, start + 1);
    if (end === -1) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.slice(start, end + 1));
    } catch {
      return;
    }
    if (parsed !== value) return;
    const prefix = data.slice(0, start);
    let middle = data.slice(end + 1);
    let tail = '';
    let padded = false;
    if (this.paddingToken !== undefined) {
      const pad = data.indexOf(this.paddingToken, end + 1);
      if (pad !== -1 && data.indexOf(this.paddingToken, pad + 1) === -1) {
        const open = pad + this.paddingToken.length;
        const close = data.charCodeAt(open) === QUOTE ? plainStringEnd(data, open) : -1;
        if (close !== -1) {
          middle = data.slice(end + 1, open);
          tail = data.slice(close + 1);
          padded = true;
        }
      }
    }
    if (prefix.indexOf('\\') !== -1 || middle.indexOf('\\') !== -1 || tail.indexOf('\\') !== -1) return;
    this.prefix = prefix;
    this.middle = middle;
    this.tail = tail;
    this.padded = padded;
    this.event = frame.event;
    this.known = true;
  }

  private miss(): undefined {
    this.known = false;
    this.misses++;
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
