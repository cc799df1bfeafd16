import { lineTooLong, type InferenceError } from '../errors.js';
import { Carry } from './carry.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Receives one line as `text.slice(start, end)`, without its line end. Lines are handed
 * over as positions in a larger decoded string so that the common case allocates
 * nothing per line; call `text.slice(start, end)` when the line itself is needed.
 */
export type LineSink = (text: string, start: number, end: number) => void;

/**
 * Splits bytes into lines ending in LF, CR or CRLF, also when the CR ends one read and
 * its LF starts the next. Linear in the input: each read is decoded once up to its last
 * line end (LF and CR never occur inside a UTF-8 sequence, so a character cut between
 * two reads is never decoded in halves), a line that spans many reads is copied into one
 * growing buffer and decoded once, and lines are found with the string's own indexOf.
 */
export class LineSplitter {
  private readonly pending = new Carry();
  private skipLeadingLF = false;

  constructor(private readonly maxLineBytes: number) {}

  write(chunk: Buffer, sink: LineSink): void {
    const n = chunk.length;
    let p = 0;
    if (this.skipLeadingLF) {
      this.skipLeadingLF = false;
      if (n > 0 && chunk[0] === LF) p = 1;
    }
    if (p === n) return;
    if (this.pending.length > 0) {
      // Finish the carried line first: it needs the bytes up to this read's first line end.
      const end = firstLineEnd(chunk, p);
      if (end === -1) {
        this.carry(chunk, p, n);
        return;
      }
      this.carry(chunk, p, end);
      const line = this.pending.text();
      this.pending.clear();
      p = end + 1;
      if (chunk[end] === CR) {
        if (p === n) this.skipLeadingLF = true;
        else if (chunk[p] === LF) p++;
      }
      sink(line, 0, line.length);
      if (p === n) return;
    }
    // Decode everything up to the read's last line end at once.
    const lastByte = chunk[n - 1];
    const last = lastByte === LF || lastByte === CR ? n - 1 : Math.max(chunk.lastIndexOf(LF), chunk.lastIndexOf(CR));
    if (last < p) {
      this.carry(chunk, p, n);
      return;
    }
    // The limit is in bytes. Only a read longer than the limit can hold a line that breaks
    // it: then the bytes say which line that is, and it fails when its turn comes, after
    // the lines before it, as it would in any other cut of the input.
    let failAt = last + 1 - p > this.maxLineBytes ? firstLongLine(chunk, p, last, this.maxLineBytes) : -1;
    const text = chunk.toString('utf8', p, last + 1);
    const len = text.length;
    let i = 0;
    let nextLF = text.indexOf('\n');
    let nextCR = text.indexOf('\r');
    while (i < len) {
      if (nextLF !== -1 && nextLF < i) nextLF = text.indexOf('\n', i);
      if (nextCR !== -1 && nextCR < i) nextCR = text.indexOf('\r', i);
      const end = nextLF === -1 ? nextCR : nextCR === -1 || nextLF < nextCR ? nextLF : nextCR;
      if (failAt !== -1 && failAt-- === 0) throw this.tooLong();
      const next = end + 1;
      if (end === nextCR) {
        if (next < len) {
          sink(text, i, end);
          i = text.charCodeAt(next) === LF ? next + 1 : next;
          continue;
        }
        // The read's last byte is a CR: its LF, if any, comes with the next read.
        if (last + 1 === n) this.skipLeadingLF = true;
      }
      sink(text, i, end);
      i = next;
    }
    if (last + 1 < n) this.carry(chunk, last + 1, n);
  }

  /** Nothing carried: the next byte written starts a new line. */
  idle(): boolean {
    return this.pending.length === 0 && !this.skipLeadingLF;
  }

  /** End of input: returns the unterminated last line, or undefined when input ended on a line end. */
  end(): string | undefined {
    if (this.pending.length === 0) return undefined;
    const line = this.pending.text();
    this.pending.clear();
    return line;
  }

  private carry(chunk: Buffer, from: number, to: number): void {
    if (this.pending.length + (to - from) > this.maxLineBytes) {
      this.pending.clear();
      throw this.tooLong();
    }
    this.pending.append(chunk, from, to);
  }

  private tooLong(): InferenceError {
    return lineTooLong(this.maxLineBytes);
  }
}

function firstLineEnd(chunk: Buffer, from: number): number {
  const lf = chunk.indexOf(LF, from);
  const cr = lf === -1 ? chunk.indexOf(CR, from) : chunk.subarray(from, lf).indexOf(CR);
  if (lf === -1) return cr;
  return cr === -1 ? lf : from + cr;
}

/** UTF-8 length of `text.slice(start, end)`, without building it (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8Length(text: string, start: number, end: number): number {
  let n = end - start;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 2 units, 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

/**
 * The index (0 = first) of the first line in `chunk[from..last]` longer than `max` bytes,
 * counting CRLF as one line end, or -1. `last` is a line end.
 */
function firstLongLine(chunk: Buffer, from: number, last: number, max: number): number {
  let nextLF = chunk.indexOf(LF, from);
  let nextCR = chunk.indexOf(CR, from);
  let start = from;
  for (let line = 0; start <= last; line++) {
    if (nextLF !== -1 && nextLF < start) nextLF = chunk.indexOf(LF, start);
    if (nextCR !== -1 && nextCR < start) nextCR = chunk.indexOf(CR, start);
    const end = nextLF === -1 ? nextCR : nextCR === -1 || nextLF < nextCR ? nextLF : nextCR;
    if (end - start > max) return line;
    start = end + 1;
    if (chunk[end] === CR && start <= last && chunk[start] === LF) start++;
  }
  return -1;
}
