import { incompleteStream } from '../errors.js';
import { LineSplitter } from './lines.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type FrameDecoder,
  type FrameSink,
  type FrameTemplate,
  type FramingOptions,
} from './frame.js';

const LINE: FrameTemplate = { head: '', end: '\n' };

/**
 * Newline-delimited JSON: one value per line, LF or CRLF, blank lines skipped, a last
 * line without newline still counts. Lines are handed on untrimmed: a read boundary
 * next to a space inside a string must not lose it.
 */
export class NdjsonDecoder implements FrameDecoder {
  private readonly lines: LineSplitter;
  private sink: FrameSink | null = null;
  private readonly onLine = (text: string, start: number, end: number): void => {
    if (!isBlank(text, start, end)) this.sink!({ event: 'message', data: text.slice(start, end), id: '' });
  };

  constructor(options: FramingOptions = {}) {
    this.lines = new LineSplitter(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  }

  write(chunk: Buffer, sink: FrameSink): void {
    this.sink = sink;
    this.lines.write(chunk, this.onLine);
  }

  idle(): boolean {
    return this.lines.idle();
  }

  /** One JSON value and `\n`; NDJSON has no event names. */
  canonical(event: string): FrameTemplate | null {
    return event === 'message' ? LINE : null;
  }

  frameEnd(chunk: Buffer, from: number): number {
    const i = chunk.indexOf(0x0a, from);
    return i === -1 ? -1 : i + 1;
  }

  end(sink: FrameSink): boolean {
    this.sink = sink;
    const last = this.lines.end();
    if (last === undefined || isBlank(last, 0, last.length)) return false;
    // A last line without newline counts when it is whole; cut off inside, it is truncation, not bad JSON.
    if (!isJson(last)) throw incompleteStream('The inference provider stream ended inside an unterminated line');
    this.onLine(last, 0, last.length);
    return false;
  }
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0xfeff) return false;
  }
  return true;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
