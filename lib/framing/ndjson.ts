import { LineSplitter } from './lines.js';
import { DEFAULT_MAX_FRAME_BYTES, type FrameDecoder, type FrameSink, type FramingOptions } from './frame.js';

/**
 * Newline-delimited JSON: one value per line, LF or CRLF, blank lines skipped, a last
 * line without newline still counts. Lines are handed on untrimmed: a read boundary
 * next to a space inside a string must not lose it.
 */
export class NdjsonDecoder implements FrameDecoder {
  private readonly lines: LineSplitter;
  private sink: FrameSink | null = null;
  private readonly onLine = (line: string): void => {
    if (!isBlank(line)) this.sink!({ event: 'message', data: line, id: '' });
  };

  constructor(options: FramingOptions = {}) {
    this.lines = new LineSplitter(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  }

  write(chunk: Buffer, sink: FrameSink): void {
    this.sink = sink;
    this.lines.write(chunk, this.onLine);
  }

  end(sink: FrameSink): void {
    this.sink = sink;
    const last = this.lines.end();
    if (last !== undefined) this.onLine(last);
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0xfeff) return false;
  }
  return true;
}
