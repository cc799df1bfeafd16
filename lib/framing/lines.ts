import { InferenceError, ErrorType } from '../errors.js';

const LF = 0x0a;
const CR = 0x0d;

export type LineSink = (line: string) => void;

/**
 * Splits bytes into lines ending in LF, CR or CRLF, also when the CR ends one read and
 * its LF starts the next. Linear in the input: every byte is scanned once, a line that
 * spans many reads is kept as a list of slices and joined once, and text is decoded per
 * complete line, so a UTF-8 character cut between two reads comes out whole.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private skipLeadingLF = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Bytes held for a line not finished yet. */
  get pendingBytes(): number {
    return this.partBytes;
  }

  write(chunk: Buffer, sink: LineSink): void {
    const n = chunk.length;
    let i = 0;
    if (this.skipLeadingLF) {
      this.skipLeadingLF = false;
      if (n > 0 && chunk[0] === LF) i = 1;
    }
    // Next LF / CR positions, found by native indexOf and only searched again once passed.
    let nextLF = chunk.indexOf(LF, i);
    let nextCR = chunk.indexOf(CR, i);
    while (i < n) {
      if (nextLF !== -1 && nextLF < i) nextLF = chunk.indexOf(LF, i);
      if (nextCR !== -1 && nextCR < i) nextCR = chunk.indexOf(CR, i);
      let end: number;
      if (nextLF === -1) end = nextCR;
      else if (nextCR === -1) end = nextLF;
      else end = nextLF < nextCR ? nextLF : nextCR;
      if (end === -1) {
        this.carry(chunk, i, n);
        return;
      }
      let line: string;
      if (this.partBytes === 0 && this.parts.length === 0) {
        line = chunk.toString('utf8', i, end);
      } else {
        this.carry(chunk, i, end);
        line = Buffer.concat(this.parts, this.partBytes).toString('utf8');
        this.parts = [];
        this.partBytes = 0;
      }
      i = end + 1;
      if (chunk[end] === CR) {
        if (i < n) {
          if (chunk[i] === LF) i++;
        } else {
          this.skipLeadingLF = true;
        }
      }
      sink(line);
    }
  }

  /** End of input: returns the unterminated last line, or undefined when input ended on a line end. */
  end(): string | undefined {
    if (this.parts.length === 0) return undefined;
    const line = Buffer.concat(this.parts, this.partBytes).toString('utf8');
    this.parts = [];
    this.partBytes = 0;
    return line;
  }

  private carry(chunk: Buffer, from: number, to: number): void {
    if (to > from || this.parts.length === 0) this.parts.push(chunk.subarray(from, to));
    this.partBytes += to - from;
    if (this.partBytes > this.maxLineBytes) {
      this.parts = [];
      this.partBytes = 0;
      throw new InferenceError(
        ErrorType.frame,
        `Inference provider sent a line longer than the limit of ${this.maxLineBytes} bytes`,
        500,
      );
    }
  }
}
