import { eventTooLarge } from '../errors.js';
import { LineSplitter, utf8Length } from './lines.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type Frame,
  type FrameDecoder,
  type FrameSink,
  type FrameTemplate,
  type FramingOptions,
} from './frame.js';

const PLAIN_EVENT: FrameTemplate = { head: 'data: ', end: '\n\n' };
const PLAIN_EVENT_CRLF: FrameTemplate = { head: 'data: ', end: '\r\n\r\n' };
const BLANK_LINE = Buffer.from('\n\n');
const BLANK_LINE_CRLF = Buffer.from('\r\n\r\n');
const CR = 0x0d;
const LF = 0x0a;

/** How the stream ends its lines, as its first line end says (for the plainest form of an event). */
const enum LineEnd {
  Undecided,
  /** The first read ended with the CR of the first line end. */
  AfterCR,
  LF,
  CRLF,
  /** CR alone (allowed, rare): no plainest form is offered for it. */
  CR,
}

/**
 * Server-Sent Events, exact to the WHATWG event-stream rules: BOM at stream start only,
 * LF / CR / CRLF line ends, `:` comments, the field name is everything before the first
 * colon (a line without colon is a field with an empty value), `event` / `data` / `id` /
 * `retry`, every other field ignored, multi-line data joined with `\n`, one space
 * stripped after the colon, dispatch on a blank line, an unterminated last event dropped.
 *
 * With `rawJson` (Vertex AI, which writes its mid-stream error as bare, often
 * pretty-printed JSON into the stream), a line opening with `{` or `[` outside any field
 * starts a `raw` frame that gathers the lines up to the next blank line.
 */
export class SseDecoder implements FrameDecoder {
  private readonly lines: LineSplitter;
  private readonly maxEventBytes: number;
  private readonly rawJson: boolean;
  private sink: FrameSink | null = null;
  private firstLine = true;
  private data = '';
  private hasData = false;
  private eventType = '';
  private lastEventId = '';
  private raw: string[] | null = null;
  /** Size of the pending event's data: UTF-16 units while that bounds the bytes safely below the limit, else UTF-8 bytes. */
  private eventSize = 0;
  private sizeInBytes = false;
  private readonly onLine = (text: string, start: number, end: number): void => this.line(text, start, end);
  private lineEnd = LineEnd.Undecided;

  constructor(options: FramingOptions = {}) {
    this.maxEventBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.rawJson = options.rawJson === true;
    this.lines = new LineSplitter(this.maxEventBytes);
  }

  write(chunk: Buffer, sink: FrameSink): void {
    this.sink = sink;
    if (this.lineEnd < LineEnd.LF) this.findLineEnd(chunk);
    this.lines.write(chunk, this.onLine);
  }

  /** Decides the stream's line end from its first one (Google writes CRLF, most others LF). */
  private findLineEnd(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.lineEnd === LineEnd.AfterCR) {
      this.lineEnd = chunk[0] === LF ? LineEnd.CRLF : LineEnd.CR;
      return;
    }
    const lf = chunk.indexOf(LF);
    const cr = chunk.indexOf(CR);
    if (cr === -1) {
      if (lf !== -1) this.lineEnd = LineEnd.LF;
    } else if (lf !== -1 && lf < cr) this.lineEnd = LineEnd.LF;
    else if (cr === chunk.length - 1) this.lineEnd = LineEnd.AfterCR;
    else this.lineEnd = chunk[cr + 1] === LF ? LineEnd.CRLF : LineEnd.CR;
  }

  /**
   * Returns true when input stopped inside an event that had data (dropped, as WHATWG
   * says). A last line without line end that holds no data (a comment, `event: x`)
   * leaves nothing pending and is not reported.
   */
  end(sink: FrameSink): boolean {
    this.sink = sink;
    const last = this.lines.end();
    if (last !== undefined) this.line(last, 0, last.length);
    // A bare JSON error at the very end of a Vertex AI stream needs no blank line after it.
    this.flushRaw();
    const truncated = this.hasData;
    this.reset();
    return truncated;
  }

  /** Between events with nothing carried (past the first line, where a BOM may be). */
  idle(): boolean {
    return !this.firstLine && !this.hasData && this.eventType === '' && this.raw === null && this.lines.idle();
  }

  /**
   * `data: PAYLOAD\n\n`, with an `event: NAME` line first unless the name is `message`; with
   * CRLF line ends when the stream's first line end was one (null for CR-only line ends).
   * Read only once an event was framed, so the line end is decided by then.
   */
  canonical(event: string): FrameTemplate | null {
    if (this.lineEnd === LineEnd.CR) return null;
    if (this.lineEnd === LineEnd.CRLF) {
      return event === 'message' ? PLAIN_EVENT_CRLF : { head: 'event: ' + event + '\r\ndata: ', end: '\r\n\r\n' };
    }
    return event === 'message' ? PLAIN_EVENT : { head: 'event: ' + event + '\ndata: ', end: '\n\n' };
  }

  frameEnd(chunk: Buffer, from: number): number {
    if (this.lineEnd === LineEnd.CRLF) {
      const i = chunk.indexOf(BLANK_LINE_CRLF, from);
      return i === -1 ? -1 : i + 4;
    }
    const i = chunk.indexOf(BLANK_LINE, from);
    return i === -1 ? -1 : i + 2;
  }

  private line(text: string, start: number, end: number): void {
    if (this.firstLine) {
      this.firstLine = false;
      if (text.charCodeAt(start) === 0xfeff) start++;
    }
    if (start === end) {
      this.dispatch();
      return;
    }
    const c0 = text.charCodeAt(start);
    if (c0 === 0x3a) return; // comment
    // The common lines first, read in place: `data:` and `event:`.
    if (c0 === 0x64 && text.startsWith('data:', start)) {
      const from = start + 5 < end && text.charCodeAt(start + 5) === 0x20 ? start + 6 : start + 5;
      this.appendData(text.slice(from, end));
      return;
    }
    if (c0 === 0x65 && text.startsWith('event:', start)) {
      const from = start + 6 < end && text.charCodeAt(start + 6) === 0x20 ? start + 7 : start + 6;
      this.eventType = text.slice(from, end);
      return;
    }
    if (this.rawJson && (this.raw !== null || c0 === 0x7b || c0 === 0x5b) && !isKnownField(text, start, end)) {
      const line = text.slice(start, end);
      this.grow(line);
      (this.raw ??= []).push(line);
      return;
    }
    const nameEnd = fieldNameEnd(text, start, end);
    if (nameEnd === -1) return; // a field name longer than any known field: ignored
    const valueStart =
      nameEnd === end ? end : text.charCodeAt(nameEnd + 1) === 0x20 && nameEnd + 1 < end ? nameEnd + 2 : nameEnd + 1;
    switch (nameEnd - start) {
      case 4:
        if (text.startsWith('data', start)) this.appendData(text.slice(valueStart, end));
        return;
      case 5:
        if (text.startsWith('event', start)) this.eventType = text.slice(valueStart, end);
        else if (text.startsWith('retry', start)) return;
        return;
      case 2:
        if (text.startsWith('id', start)) {
          const value = text.slice(valueStart, end);
          if (value.indexOf('\0') === -1) this.lastEventId = value;
        }
        return;
      default:
        return; // any other field is ignored
    }
  }

  private appendData(value: string): void {
    this.grow(value);
    if (this.hasData) this.data += '\n' + value;
    else {
      this.data = value;
      this.hasData = true;
    }
  }

  private dispatch(): void {
    this.flushRaw();
    if (!this.hasData) {
      this.eventType = '';
      return;
    }
    const frame: Frame = { event: this.eventType || 'message', data: this.data, id: this.lastEventId };
    this.reset();
    this.sink!(frame);
  }

  private flushRaw(): void {
    if (this.raw === null) return;
    const frame: Frame = { event: '', data: this.raw.join('\n'), id: this.lastEventId, raw: true };
    this.raw = null;
    if (!this.hasData) this.resetSize();
    this.sink!(frame);
  }

  private reset(): void {
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.raw = null;
    this.resetSize();
  }

  private resetSize(): void {
    this.eventSize = 0;
    this.sizeInBytes = false;
  }

  /**
   * Adds one line's value to the event's size and enforces the limit in UTF-8 bytes.
   * A UTF-16 unit is 1 to 3 bytes, so counting units is exact enough while three times
   * the count stays within the limit; past that point the bytes themselves are counted.
   */
  private grow(value: string): void {
    if (this.sizeInBytes) this.eventSize += utf8Length(value, 0, value.length);
    else {
      this.eventSize += value.length;
      if (this.eventSize * 3 <= this.maxEventBytes) return;
      this.sizeInBytes = true;
      this.eventSize =
        (this.hasData ? utf8Length(this.data, 0, this.data.length) : 0) +
        this.rawBytes() +
        utf8Length(value, 0, value.length);
    }
    if (this.eventSize > this.maxEventBytes) {
      this.reset();
      throw eventTooLarge(this.maxEventBytes);
    }
  }

  private rawBytes(): number {
    if (this.raw === null) return 0;
    let n = 0;
    for (const line of this.raw) n += utf8Length(line, 0, line.length);
    return n;
  }
}

/** `data`, `event`, `id` or `retry`, followed by a colon or the end of the line. */
function isKnownField(text: string, start: number, end: number): boolean {
  const nameEnd = fieldNameEnd(text, start, end);
  switch (nameEnd - start) {
    case 4:
      return text.startsWith('data', start);
    case 5:
      return text.startsWith('event', start) || text.startsWith('retry', start);
    case 2:
      return text.startsWith('id', start);
    default:
      return false;
  }
}

/**
 * Where the field name of a line ends: its first colon, or the end of the line. Only the
 * first six characters are searched: a longer name is none of the four fields anyway.
 */
function fieldNameEnd(text: string, start: number, end: number): number {
  const limit = end - start > 6 ? start + 6 : end;
  for (let i = start; i < limit; i++) if (text.charCodeAt(i) === 0x3a) return i;
  return limit === end ? end : -1;
}
