import { eventTooLarge, incompleteStream } from '../errors.js';
import { LineSplitter } from './lines.js';
import { DEFAULT_MAX_FRAME_BYTES, type Frame, type FrameDecoder, type FrameSink, type FramingOptions } from './frame.js';

/**
 * Server-Sent Events, exact to the WHATWG event-stream rules: BOM at stream start,
 * LF / CR / CRLF line ends, `:` comments, `event` / `data` / `id` / `retry`, a field
 * line without colon, multi-line data joined with `\n`, one space stripped after the
 * colon, dispatch on a blank line. Lines that are not SSE fields at all (a provider
 * writing raw JSON into the stream) are handed on as one `raw` frame.
 */
export class SseDecoder implements FrameDecoder {
  private readonly lines: LineSplitter;
  private readonly maxEventBytes: number;
  private sink: FrameSink | null = null;
  private firstLine = true;
  private data = '';
  private hasData = false;
  private eventType = '';
  private lastEventId = '';
  private raw: string[] | null = null;
  private eventBytes = 0;
  private readonly onLine = (text: string, start: number, end: number): void => this.line(text, start, end);

  constructor(options: FramingOptions = {}) {
    this.maxEventBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.lines = new LineSplitter(this.maxEventBytes);
  }

  write(chunk: Buffer, sink: FrameSink): void {
    this.sink = sink;
    this.lines.write(chunk, this.onLine);
  }

  end(sink: FrameSink): void {
    this.sink = sink;
    const last = this.lines.end();
    if (last !== undefined) this.line(last, 0, last.length);
    this.flushRaw();
    if (this.hasData) {
      this.reset();
      throw incompleteStream('The inference provider stream ended inside an unterminated event');
    }
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
      const from = text.charCodeAt(start + 5) === 0x20 && start + 5 < end ? start + 6 : start + 5;
      this.appendData(text.slice(from, end));
      return;
    }
    if (c0 === 0x65 && text.startsWith('event:', start)) {
      const from = text.charCodeAt(start + 6) === 0x20 && start + 6 < end ? start + 7 : start + 6;
      this.eventType = text.slice(from, end);
      return;
    }
    const line = text.slice(start, end);
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 0x20 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        this.appendData(value);
        return;
      case 'event':
        this.eventType = value;
        return;
      case 'id':
        if (value.indexOf('\0') === -1) this.lastEventId = value;
        return;
      case 'retry':
        return;
      default:
        // Not an SSE field. Harmless to a browser, but it is how Vertex AI writes an error.
        if (!isFieldName(field)) {
          this.grow(line.length);
          (this.raw ??= []).push(line);
        }
    }
  }

  private appendData(value: string): void {
    this.grow(value.length);
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
    if (!this.hasData) this.eventBytes = 0;
    this.sink!(frame);
  }

  private reset(): void {
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.eventBytes = 0;
  }

  private grow(bytes: number): void {
    this.eventBytes += bytes;
    if (this.eventBytes > this.maxEventBytes) {
      this.reset();
      this.raw = null;
      throw eventTooLarge(this.maxEventBytes);
    }
  }
}

/** A plausible SSE field name: unknown ones (`foo: 1`) are ignored as the spec says, JSON text is not. */
function isFieldName(field: string): boolean {
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    // letters, digits, '-', '_'
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 95)) return false;
  }
  return field.length > 0;
}
