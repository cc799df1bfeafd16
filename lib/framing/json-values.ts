import { incompleteStream, jsonValueTooLarge, malformedEvent, type InferenceError } from '../errors.js';
import { Carry } from './carry.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type FrameDecoder,
  type FrameSink,
  type FramingOptions,
  type ValueReader,
} from './frame.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const BOM = [0xef, 0xbb, 0xbf];

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Where the scanner is. */
const enum At {
  /** Before the `[` of a streamed array (array mode only). */
  Start,
  /** Between values: whitespace, then a value (or, in array mode, what the grammar allows). */
  Between,
  /** Inside a value. */
  Value,
}

/** What a streamed array allows next, between its elements. */
const enum Arr {
  /** Right after `[`: an element or `]`. */
  Open,
  /** After an element: `,` or `]`. */
  AfterValue,
  /** After `,`: an element. */
  AfterComma,
  /** After the closing `]`: whitespace only. */
  Closed,
}

/**
 * Finds JSON value boundaries in a byte stream by depth counting that respects strings
 * and escapes (a `}` inside a string is text, not a close). Two modes:
 * - `array`: a streamed top-level array `[v, v, …]`, each element handed on as it closes
 *   (Gemini's `streamGenerateContent` without `alt=sse`);
 * - `sequence`: values one after another, separated by whitespace: JSON lines, one
 *   pretty-printed body, or several concatenated.
 * Linear: each byte is looked at once; a value spanning many reads is joined once.
 */
export class JsonValuesDecoder implements FrameDecoder {
  private at: At;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** A bare scalar (number, true, …) ends at whitespace or a delimiter rather than a bracket. */
  private scalar = false;
  private readonly pending = new Carry();
  private arr = Arr.Open;
  private readonly maxValueBytes: number;
  /** BOM bytes matched so far; -1 once past the start. */
  private bomBytes = 0;
  /** Whole-value parses that failed in a row, values left to scan before trying again, and the next such rest. */
  private misses = 0;
  private resting = 0;
  private nextRest = 16;
  /** Offered every object value that starts in a read, before it is parsed or scanned (see FrameDecoder.valueReader). */
  valueReader: ValueReader | null = null;

  constructor(
    private readonly mode: 'array' | 'sequence',
    options: FramingOptions = {},
  ) {
    this.at = mode === 'array' ? At.Start : At.Between;
    this.maxValueBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  write(chunk: Buffer, sink: FrameSink): void {
    const n = chunk.length;
    let i = 0;
    // A UTF-8 BOM may open the body; it can be cut across reads too.
    while (this.bomBytes >= 0 && i < n) {
      if (this.bomBytes < 3 && chunk[i] === BOM[this.bomBytes]) {
        this.bomBytes++;
        i++;
        continue;
      }
      this.bomBytes = -1;
    }
    let start = this.at === At.Value ? 0 : -1;
    let guess = true;
    while (i < n) {
      if (this.at === At.Value) {
        // Inside a value: a tight scan with the state in locals, written back once.
        let depth = this.depth;
        let inString = this.inString;
        let escaped = this.escaped;
        const scalar = this.scalar;
        let end = -1;
        for (; i < n; i++) {
          const c = chunk[i]!;
          if (inString) {
            if (escaped) escaped = false;
            else if (c === BACKSLASH) escaped = true;
            else if (c === QUOTE) {
              inString = false;
              if (depth === 0 && !scalar) {
                end = ++i;
                break;
              }
            }
          } else if (c === QUOTE) {
            inString = true;
          } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
            depth++;
          } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            // `]` closing the array right after a scalar element is looked at again between values.
            if (scalar) {
              end = i;
              break;
            }
            if (--depth === 0) {
              end = ++i;
              break;
            }
          } else if (scalar && (isSpace(c) || c === COMMA)) {
            end = i; // the delimiter is looked at again between values
            break;
          }
        }
        this.depth = depth;
        this.inString = inString;
        this.escaped = escaped;
        if (end === -1) break;
        this.emit(chunk, start, end, sink);
        start = -1;
        continue;
      }
      const c = chunk[i]!;
      // Between values.
      if (isSpace(c)) {
        i++;
        continue;
      }
      if (this.at === At.Start) {
        if (c !== OPEN_BRACKET) throw parseError(`expected [ to open the JSON array, found ${show(c)}`);
        this.at = At.Between;
        i++;
        continue;
      }
      if (this.mode === 'array') {
        const arr = this.arr;
        if (arr === Arr.AfterValue) {
          if (c === COMMA) this.arr = Arr.AfterComma;
          else if (c === CLOSE_BRACKET) this.arr = Arr.Closed;
          else throw parseError(`expected , or ] after an element of the JSON array, found ${show(c)}`);
          i++;
          continue;
        }
        if (arr === Arr.Closed) throw parseError(`unexpected ${show(c)} after the closing ] of the JSON array`);
        if (c === CLOSE_BRACKET) {
          if (arr === Arr.AfterComma) throw parseError('expected an element after , in the JSON array, found ]');
          this.arr = Arr.Closed;
          i++;
          continue;
        }
        if (c === COMMA) {
          throw parseError(
            arr === Arr.Open
              ? 'expected an element or ] after [ in the JSON array, found ,'
              : 'expected an element after , in the JSON array, found ,',
          );
        }
      }
      // A value starts here. An object that the rest of the read closes is parsed whole at once, when that works.
      if (c === OPEN_BRACE && this.valueReader !== null) {
        const limit = n - i > this.maxValueBytes ? i + this.maxValueBytes : n;
        const end = this.valueReader(chunk, i, limit);
        if (end >= 0) {
          this.arr = Arr.AfterValue;
          i = end;
          continue;
        }
      }
      if (c === OPEN_BRACE && guess && this.resting === 0) {
        const close = this.lastClose(chunk, i);
        if (close !== -1 && this.guessed(chunk, i, close + 1, sink)) {
          i = close + 1;
          continue;
        }
        guess = false; // one attempt per read
      } else if (this.resting > 0) this.resting--;
      this.at = At.Value;
      start = i;
      this.depth = 0;
      this.scalar = false;
      if (c === QUOTE) {
        this.inString = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.depth = 1;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET || c === COMMA) {
        throw parseError(`unexpected ${show(c)} between JSON values`);
      } else {
        this.scalar = true;
      }
      i++;
    }
    if (this.at === At.Value) this.carry(chunk, start === -1 ? 0 : start, n);
  }

  end(sink: FrameSink): boolean {
    if (this.at === At.Value && this.scalar && !this.inString) {
      this.emit(Buffer.alloc(0), 0, 0, sink);
    }
    if (this.at === At.Value) {
      this.pending.clear();
      throw incompleteStream('The inference provider stream ended inside an unterminated JSON value');
    }
    if (this.mode === 'array' && this.arr !== Arr.Closed) {
      throw incompleteStream(
        this.at === At.Start
          ? 'The inference provider sent no JSON array'
          : 'The inference provider stream ended before the JSON array was closed',
      );
    }
    return false;
  }

  /**
   * Where the value starting at `from` ends if it is the read's last one: the index of the
   * read's last `}`, when only whitespace follows it (in an array, also one `,` or `]`);
   * else -1.
   */
  private lastClose(chunk: Buffer, from: number): number {
    let j = chunk.length - 1;
    while (j > from && isSpace(chunk[j]!)) j--;
    if (this.mode === 'array' && (chunk[j] === COMMA || chunk[j] === CLOSE_BRACKET)) {
      j--;
      while (j > from && isSpace(chunk[j]!)) j--;
    }
    return j > from && chunk[j] === CLOSE_BRACE && j + 1 - from <= this.maxValueBytes ? j : -1;
  }

  /**
   * Parses `chunk[from…to)` as one JSON value: when it is one, it is the frame (parsed
   * once, here, instead of scanned here and parsed later). When it is not (several
   * values, one cut short), the scan takes over; after two such misses in a row the next
   * values are scanned without trying, 16 at first, twice as many after each new run of misses.
   */
  private guessed(chunk: Buffer, from: number, to: number, sink: FrameSink): boolean {
    const text = chunk.toString('utf8', from, to);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (++this.misses >= 2) {
        this.misses = 0;
        this.resting = this.nextRest;
        this.nextRest = Math.min(this.nextRest * 2, 4096);
      }
      return false;
    }
    this.misses = 0;
    this.arr = Arr.AfterValue;
    sink({ event: 'message', data: text, id: '', value });
    return true;
  }

  private emit(chunk: Buffer, from: number, to: number, sink: FrameSink): void {
    let text: string;
    if (this.pending.length === 0) {
      if (to - from > this.maxValueBytes) throw this.tooLarge();
      text = chunk.toString('utf8', from, to);
    } else {
      this.carry(chunk, from, to);
      text = this.pending.text();
      this.pending.clear();
    }
    this.at = At.Between;
    this.arr = Arr.AfterValue;
    this.scalar = false;
    this.depth = 0;
    sink({ event: 'message', data: text, id: '', value: undefined });
  }

  private carry(chunk: Buffer, from: number, to: number): void {
    if (this.pending.length + (to - from) > this.maxValueBytes) {
      this.pending.clear();
      throw this.tooLarge();
    }
    this.pending.append(chunk, from, to);
  }

  private tooLarge(): InferenceError {
    return jsonValueTooLarge(this.maxValueBytes);
  }
}

function parseError(what: string): InferenceError {
  return malformedEvent(what);
}

/** A byte for an error message: printable ASCII as itself, anything else as its code. */
function show(c: number): string {
  return c > 0x20 && c < 0x7f ? `[${String.fromCharCode(c)}]` : `byte [0x${c.toString(16).padStart(2, '0')}]`;
}
