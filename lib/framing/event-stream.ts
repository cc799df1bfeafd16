import { crc32 } from 'node:zlib';
import { brokenAwsFrame, incompleteStream } from '../errors.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type Frame,
  type FrameDecoder,
  type FrameSink,
  type FramingOptions,
  type PayloadReader,
} from './frame.js';

/** Total length, headers length, prelude CRC: three big-endian u32. */
const PRELUDE_BYTES = 12;
/** Prelude and message CRC around no headers and no payload. */
const MIN_FRAME_BYTES = 16;
/** A carried-frame buffer larger than this is let go once its frame is read. */
const KEEP_BUFFER_BYTES = 64 * 1024;
/** Reads of up to this many bytes are copied byte by byte (cheaper than a native copy call). */
const SMALL_COPY = 16;

/**
 * Below this many bytes a CRC is computed here (8 table lookups per 8 bytes): zlib's
 * crc32 costs a Buffer view, argument checks and a native call, about 200–300 ns on the
 * benchmark machine, more than the lookups take on a prelude or on frames of up to a few
 * hundred bytes (a Bedrock text frame is 100–300); above it zlib is faster.
 */
const NATIVE_CRC_BYTES = 320;

/**
 * CRC-32 (the zlib polynomial, reflected) lookup tables, eight of 256 entries: table `t`
 * advances a CRC by a byte followed by `t` zero bytes, so eight bytes take eight lookups.
 */
const CRC_TABLES = ((): Int32Array => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** Header value type byte 7: a string (u16 length, UTF-8 bytes). */
const TYPE_STRING = 7;
/** Header value type byte 9: a UUID (16 bytes), which reads as its hyphenated lower-case hex text. */
const TYPE_UUID = 9;
/**
 * Value bytes after the type byte, by type: 0 true, 1 false, 2 byte, 3 short, 4 int,
 * 5 long, 6 bytes (u16 length + bytes, marked -1), 7 string (likewise), 8 timestamp, 9 uuid.
 */
const VALUE_BYTES = [0, 0, 1, 2, 4, 8, -1, -1, 8, 16];

/** The headers this reader takes from a frame; every other header is skipped. */
const enum Wanted {
  None,
  MessageType,
  EventType,
  ExceptionType,
  ErrorCode,
  ErrorMessage,
}

const MESSAGE_TYPE = Buffer.from(':message-type');
const EVENT_TYPE = Buffer.from(':event-type');
const EXCEPTION_TYPE = Buffer.from(':exception-type');
const ERROR_CODE = Buffer.from(':error-code');
const ERROR_MESSAGE = Buffer.from(':error-message');
const EVENT = Buffer.from('event');
const EXCEPTION = Buffer.from('exception');

/** What `:message-type` says a frame is (absent, empty or not a string: an event). */
const enum Kind {
  Event,
  Exception,
  /** Any other message type (`error`): its message is in the `:error-code` and `:error-message` headers. */
  Error,
}

/** Distinct header values remembered per stream, so that repeated event names are not decoded again. */
const NAME_CACHE_SIZE = 8;
/** Longest header value the name cache keeps. */
const NAME_CACHE_BYTES = 64;

/**
 * AWS `application/vnd.amazon.eventstream` (Bedrock): length-prefixed binary frames,
 * read by hand. Per frame: the prelude (total length, headers length, prelude CRC) is
 * checked as soon as its 12 bytes are in, so a corrupt length cannot make it wait for
 * gigabytes; then the message CRC (zlib's CRC-32, continued from the prelude's); then the
 * headers, walking every one by its type and keeping only `:message-type`, `:event-type`,
 * `:exception-type`, `:error-code` and `:error-message` (the last one of a name wins);
 * then the payload, decoded as UTF-8 straight from the read it arrived in. A frame split
 * across reads is collected in one buffer sized to the frame, each byte copied once.
 */
export class EventStreamDecoder implements FrameDecoder {
  private readonly maxFrameBytes: number;
  /** The frame being collected across reads (its first `have` bytes). */
  private part: Buffer = Buffer.allocUnsafe(256);
  private have = 0;
  /** Total length of the collected frame, once its prelude is in (0 before). */
  private need = 0;
  /** Header values already decoded: their bytes and their text. */
  private readonly cachedBytes: Buffer[] = [];
  private readonly cachedText: string[] = [];
  // The wanted headers of the frame being read (set by readHeaders).
  private kind = Kind.Event;
  private eventType = '';
  private exceptionType = '';
  private errorCode = '';
  private errorMessage = '';
  /** Offered every event frame's payload bytes before a frame is made (see FrameDecoder.payloadReader). */
  payloadReader: PayloadReader | null = null;

  constructor(options: FramingOptions = {}) {
    this.maxFrameBytes = Math.min(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, 0xffffffff);
  }

  write(chunk: Buffer, sink: FrameSink): void {
    const n = chunk.length;
    let i = 0;
    if (this.have > 0) {
      i = this.fill(chunk, sink);
      if (this.have > 0) return; // the whole read went into the carried frame
    }
    // Whole frames inside this read are read in place.
    while (i < n) {
      if (n - i < PRELUDE_BYTES) {
        this.carry(chunk, i, n, 0);
        return;
      }
      const total = this.checkPrelude(chunk, i);
      if (n - i < total) {
        this.carry(chunk, i, n, total);
        return;
      }
      this.decode(chunk, i, total, sink);
      i += total;
    }
  }

  end(_sink: FrameSink): boolean {
    if (this.have > 0) {
      const had = this.have;
      this.reset();
      throw incompleteStream(`The inference provider event stream ended inside a frame (${had} bytes of a frame)`);
    }
    return false;
  }

  /** Starts carrying a frame: `chunk[from, to)` are its first bytes; `total` its length when known (else 0). */
  private carry(chunk: Buffer, from: number, to: number, total: number): void {
    if (total > this.part.length) this.part = Buffer.allocUnsafe(total);
    this.need = total;
    this.have = 0;
    this.copyIn(chunk, from, to);
  }

  /** Adds the start of `chunk` to the carried frame, reading the frame once complete; returns the bytes used. */
  private fill(chunk: Buffer, sink: FrameSink): number {
    const n = chunk.length;
    let i = 0;
    if (this.need === 0) {
      i = Math.min(PRELUDE_BYTES - this.have, n);
      this.copyIn(chunk, 0, i);
      if (this.have < PRELUDE_BYTES) return i;
      let total;
      try {
        total = this.checkPrelude(this.part, 0);
      } catch (err) {
        this.reset();
        throw err;
      }
      if (total > this.part.length) {
        const grown = Buffer.allocUnsafe(total);
        this.part.copy(grown, 0, 0, PRELUDE_BYTES);
        this.part = grown;
      }
      this.need = total;
    }
    const take = Math.min(this.need - this.have, n - i);
    this.copyIn(chunk, i, i + take);
    i += take;
    if (this.have < this.need) return i;
    const frame = this.part;
    const total = this.need;
    this.have = 0;
    this.need = 0;
    if (frame.length > KEEP_BUFFER_BYTES) this.part = Buffer.allocUnsafe(256);
    this.decode(frame, 0, total, sink);
    return i;
  }

  private copyIn(chunk: Buffer, from: number, to: number): void {
    const part = this.part;
    let at = this.have;
    if (to - from <= SMALL_COPY) {
      for (let k = from; k < to; k++) part[at++] = chunk[k]!;
    } else {
      chunk.copy(part, at, from, to);
      at += to - from;
    }
    this.have = at;
  }

  private reset(): void {
    this.have = 0;
    this.need = 0;
    if (this.part.length > KEEP_BUFFER_BYTES) this.part = Buffer.allocUnsafe(256);
  }

  /** Returns the frame's total length after checking the prelude CRC and the length's bounds. */
  private checkPrelude(buf: Buffer, at: number): number {
    const total = u32(buf, at);
    const headers = u32(buf, at + 4);
    if (crc(buf, at, at + 8, 0) !== u32(buf, at + 8)) {
      throw brokenAwsFrame('prelude checksum mismatch');
    }
    if (total < MIN_FRAME_BYTES || headers > total - MIN_FRAME_BYTES) {
      throw brokenAwsFrame(`impossible frame length ${total} with ${headers} header bytes`);
    }
    if (total > this.maxFrameBytes) {
      throw brokenAwsFrame(`frame of ${total} bytes is larger than the limit of ${this.maxFrameBytes} bytes`);
    }
    return total;
  }

  /** Reads the complete frame `buf[at, at + total)`, whose prelude was checked, and hands it to `sink`. */
  private decode(buf: Buffer, at: number, total: number, sink: FrameSink): void {
    const crcAt = at + total - 4;
    // The message CRC covers everything before it: continue the prelude's (already checked equal to its bytes).
    const actual = crc(buf, at + 8, crcAt, u32(buf, at + 8));
    const expected = u32(buf, crcAt);
    if (actual !== expected) {
      throw brokenAwsFrame(`The message checksum (${actual}) did not match the expected value of ${expected}`);
    }
    const payloadAt = at + PRELUDE_BYTES + u32(buf, at + 4);
    this.readHeaders(buf, at + PRELUDE_BYTES, payloadAt);
    if (
      this.kind === Kind.Event &&
      this.payloadReader !== null &&
      this.payloadReader(buf, payloadAt, crcAt, this.eventType, buf !== this.part)
    )
      return;
    // No encoding name: UTF-8 without the lookup of the name (the same text as 'utf8').
    const data = payloadAt === crcAt ? '' : buf.toString(undefined, payloadAt, crcAt);
    let frame: Frame;
    switch (this.kind) {
      case Kind.Event:
        frame = { event: this.eventType, data, id: '' };
        break;
      case Kind.Exception:
        frame = { event: this.exceptionType, data, id: '', exception: true };
        break;
      default:
        // `:message-type: error` carries its message in headers, not in the payload.
        frame = {
          event: this.errorCode || 'error',
          data: JSON.stringify({ message: this.errorMessage || data }),
          id: '',
          exception: true,
        };
    }
    sink(frame);
  }

  /** Walks the headers in `buf[from, to)`, each by its type, keeping the wanted ones. */
  private readHeaders(buf: Buffer, from: number, to: number): void {
    this.kind = Kind.Event;
    this.eventType = '';
    this.exceptionType = '';
    this.errorCode = '';
    this.errorMessage = '';
    let p = from;
    while (p < to) {
      const nameLength = buf[p]!;
      const nameAt = p + 1;
      p = nameAt + nameLength;
      if (p >= to) throw brokenAwsFrame('a header name runs past the header section');
      const type = buf[p++]!;
      let size = VALUE_BYTES[type];
      if (size === undefined) throw brokenAwsFrame('Unrecognized header type tag');
      if (size < 0) {
        if (p + 2 > to) throw brokenAwsFrame('a header value length runs past the header section');
        size = (buf[p]! << 8) | buf[p + 1]!;
        p += 2;
      }
      const valueAt = p;
      p += size;
      if (p > to) throw brokenAwsFrame('a header value runs past the header section');
      const wanted = wantedHeader(buf, nameAt, nameLength);
      if (wanted === Wanted.None) continue;
      if (type !== TYPE_STRING) {
        // Only a string (or a uuid, read as its text) names anything; another type clears the header.
        const text = type === TYPE_UUID ? uuidText(buf, valueAt) : '';
        if (wanted === Wanted.MessageType) this.kind = text === '' ? Kind.Event : Kind.Error;
        else this.setText(wanted, text);
      } else if (wanted === Wanted.MessageType) {
        this.kind = messageKind(buf, valueAt, size);
      } else {
        this.setText(
          wanted,
          wanted === Wanted.EventType || wanted === Wanted.ExceptionType
            ? this.name(buf, valueAt, size)
            : buf.toString('utf8', valueAt, p),
        );
      }
    }
  }

  private setText(wanted: Wanted, text: string): void {
    if (wanted === Wanted.EventType) this.eventType = text;
    else if (wanted === Wanted.ExceptionType) this.exceptionType = text;
    else if (wanted === Wanted.ErrorCode) this.errorCode = text;
    else this.errorMessage = text;
  }

  /** A string header value that repeats from frame to frame (an event name), decoded once per stream. */
  private name(buf: Buffer, at: number, size: number): string {
    const bytes = this.cachedBytes;
    for (let k = 0; k < bytes.length; k++) {
      if (sameBytes(buf, at, size, bytes[k]!)) return this.cachedText[k]!;
    }
    const text = buf.toString(undefined, at, at + size);
    if (size <= NAME_CACHE_BYTES && bytes.length < NAME_CACHE_SIZE) {
      bytes.push(Buffer.from(buf.subarray(at, at + size)));
      this.cachedText.push(text);
    }
    return text;
  }
}

/** CRC-32 of `buf[from, to)`, continuing `seed` (0 to start), the same value zlib's crc32 gives. */
function crc(buf: Buffer, from: number, to: number, seed: number): number {
  if (to - from >= NATIVE_CRC_BYTES) return crc32(buf.subarray(from, to), seed);
  const t = CRC_TABLES;
  let c = ~seed;
  let i = from;
  for (const last = to - 8; i <= last; i += 8) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < to; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The 16 bytes at `at` as a UUID's text, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
function uuidText(buf: Buffer, at: number): string {
  const hex = buf.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function u32(buf: Buffer, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** Whether `buf[at, at + size)` holds exactly the bytes of `name`. */
function sameBytes(buf: Buffer, at: number, size: number, name: Buffer): boolean {
  if (size !== name.length) return false;
  for (let k = 0; k < size; k++) if (buf[at + k] !== name[k]) return false;
  return true;
}

/** Which wanted header the name `buf[at, at + size)` is (names compared byte for byte, as their UTF-8 text would be). */
function wantedHeader(buf: Buffer, at: number, size: number): Wanted {
  switch (size) {
    case 11:
      return sameBytes(buf, at, size, EVENT_TYPE)
        ? Wanted.EventType
        : sameBytes(buf, at, size, ERROR_CODE)
          ? Wanted.ErrorCode
          : Wanted.None;
    case 13:
      return sameBytes(buf, at, size, MESSAGE_TYPE) ? Wanted.MessageType : Wanted.None;
    case 14:
      return sameBytes(buf, at, size, ERROR_MESSAGE) ? Wanted.ErrorMessage : Wanted.None;
    case 15:
      return sameBytes(buf, at, size, EXCEPTION_TYPE) ? Wanted.ExceptionType : Wanted.None;
    default:
      return Wanted.None;
  }
}

/** The kind of frame a string `:message-type` value names (the empty string: an event). */
function messageKind(buf: Buffer, at: number, size: number): Kind {
  if (size === 0 || sameBytes(buf, at, size, EVENT)) return Kind.Event;
  return sameBytes(buf, at, size, EXCEPTION) ? Kind.Exception : Kind.Error;
}
