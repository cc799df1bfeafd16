import type { Frame } from '../framing/frame.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Consecutive events that did not fit before a stream stops looking (e.g. OpenAI's random `obfuscation` field). */
const GIVE_UP_AFTER = 8;

/**
 * Streaming chunks of one response usually repeat the same envelope byte for byte and
 * differ only in one string: the text. This remembers the envelope around that string
 * from an event that was fully parsed, so that the next events of the same shape need a
 * JSON.parse of the string alone instead of the whole chunk.
 *
 * It is exact, not a heuristic: an event is read this way only when its bytes are the
 * remembered prefix, then one complete JSON string token, then the remembered suffix.
 * Such an event parses to the remembered object with that one value replaced, so it
 * yields what the full parse would. Learning requires that the field's key occurs once,
 * literally (no backslash anywhere in the envelope, so no key is spelled with escapes),
 * immediately followed by the string that the full parse turned into the answer text.
 * Anything else takes the normal path.
 */
export class ShapeCache {
  private prefix = '';
  private suffix = '';
  private event = '';
  private known = false;
  private misses = 0;

  /** `keyToken` is the field's key as it appears on the wire, e.g. `"content":`. */
  constructor(private readonly keyToken: string) {}

  /** The string value when the event has the remembered shape; undefined otherwise. */
  match(frame: Frame): string | undefined {
    if (!this.known) return undefined;
    const data = frame.data;
    const prefix = this.prefix;
    const suffix = this.suffix;
    const end = data.length - suffix.length;
    if (
      end - prefix.length < 2 ||
      frame.event !== this.event ||
      data.charCodeAt(prefix.length) !== QUOTE ||
      data.charCodeAt(end - 1) !== QUOTE ||
      // Slice-and-compare is a native memcmp; startsWith/endsWith walk characters (10x slower here).
      data.slice(0, prefix.length) !== prefix ||
      data.slice(end) !== suffix
    ) {
      return this.miss();
    }
    const value = stringToken(data, prefix.length, end);
    if (value === undefined) return this.miss();
    this.misses = 0;
    return value;
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
    const prefix = data.slice(0, start);
    const suffix = data.slice(end + 1);
    if (prefix.indexOf('\\') !== -1 || suffix.indexOf('\\') !== -1) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.slice(start, end + 1));
    } catch {
      return;
    }
    if (parsed !== value) return;
    this.prefix = prefix;
    this.suffix = suffix;
    this.event = frame.event;
    this.known = true;
  }

  private miss(): undefined {
    this.known = false;
    this.misses++;
    return undefined;
  }
}

/**
 * The value of `text.slice(start, end)` when that is exactly one JSON string token
 * (it starts and ends with a quote), else undefined. Text without escapes, quotes or
 * control characters inside is taken as it is; anything else goes to JSON.parse, which
 * decodes escapes and rejects what is not one string.
 */
function stringToken(text: string, start: number, end: number): string | undefined {
  let plain = true;
  for (let i = start + 1; i < end - 1; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE || c === BACKSLASH || c < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) return text.slice(start + 1, end - 1);
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end));
  } catch {
    return undefined;
  }
  return typeof value === 'string' ? value : undefined;
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
