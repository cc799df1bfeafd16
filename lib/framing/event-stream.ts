import { crc32 } from 'node:zlib';
import { createRequire } from 'node:module';
import type { EventStreamCodec } from '@smithy/core/event-streams';
import { brokenAwsFrame, incompleteStream } from '../errors.js';
import { Carry } from './carry.js';
import { DEFAULT_MAX_FRAME_BYTES, type FrameDecoder, type FrameSink, type FramingOptions } from './frame.js';

const PRELUDE_BYTES = 12;
const MIN_FRAME_BYTES = 16;

let sharedCodec: EventStreamCodec | null = null;

/**
 * Smithy's codec, loaded on the first AWS frame (synchronously: decoding runs inside a
 * stream's write), so that importing the library never loads @smithy/*.
 */
function codec(): EventStreamCodec {
  if (sharedCodec === null) {
    const { EventStreamCodec } = createRequire(import.meta.url)(
      '@smithy/core/event-streams',
    ) as typeof import('@smithy/core/event-streams');
    sharedCodec = new EventStreamCodec(
      (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
      (text: string) => Buffer.from(text, 'utf8'),
    );
  }
  return sharedCodec;
}

/**
 * AWS `application/vnd.amazon.eventstream` (Bedrock): length-prefixed binary frames.
 * This class only finds frame boundaries (and checks the prelude CRC as soon as the 12
 * prelude bytes are in, so a corrupt length cannot make it wait for gigabytes); header
 * parsing and both CRC checks are done by Smithy's EventStreamCodec.
 */
export class EventStreamDecoder implements FrameDecoder {
  private readonly pending = new Carry();
  /** Total length of the frame being collected, once its prelude has been read. */
  private frameBytes = 0;
  private readonly maxFrameBytes: number;

  constructor(options: FramingOptions = {}) {
    this.maxFrameBytes = Math.min(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, 0xffffffff);
  }

  write(chunk: Buffer, sink: FrameSink): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.pending.length === 0) {
        // Fast path: whole frames inside this read are decoded in place.
        if (n - i >= PRELUDE_BYTES) {
          const total = this.checkPrelude(chunk, i);
          if (n - i >= total) {
            this.decode(chunk.subarray(i, i + total), sink);
            i += total;
            continue;
          }
          this.frameBytes = total;
        }
        this.pending.append(chunk, i, n);
        return;
      }
      const target = this.frameBytes || PRELUDE_BYTES;
      const take = Math.min(target - this.pending.length, n - i);
      this.pending.append(chunk, i, i + take);
      i += take;
      if (this.pending.length < target) return;
      if (this.frameBytes === 0) {
        this.frameBytes = this.checkPrelude(this.pending.bytes(), 0);
        continue;
      }
      const frame = this.pending.bytes();
      this.frameBytes = 0;
      this.decode(frame, sink);
      this.pending.clear();
    }
  }

  end(_sink: FrameSink): boolean {
    if (this.pending.length > 0) {
      const had = this.pending.length;
      this.pending.clear();
      this.frameBytes = 0;
      throw incompleteStream(`The inference provider event stream ended inside a frame (${had} bytes of a frame)`);
    }
    return false;
  }

  /** Returns the frame's total length after checking the prelude CRC and the length's bounds. */
  private checkPrelude(buf: Buffer, at: number): number {
    const total = buf.readUInt32BE(at);
    const headers = buf.readUInt32BE(at + 4);
    const expected = buf.readUInt32BE(at + 8);
    if (crc32(buf.subarray(at, at + 8)) !== expected) {
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

  private decode(bytes: Buffer, sink: FrameSink): void {
    let message;
    try {
      message = codec().decode(bytes);
    } catch (err) {
      throw brokenAwsFrame((err as Error).message || 'undecodable frame', err);
    }
    const headers = message.headers;
    const messageType = headerString(headers[':message-type']?.value) || 'event';
    const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString('utf8');
    if (messageType === 'event') {
      sink({ event: headerString(headers[':event-type']?.value), data: body, id: '' });
    } else if (messageType === 'exception') {
      sink({ event: headerString(headers[':exception-type']?.value), data: body, id: '', exception: true });
    } else {
      // `:message-type: error` carries its message in headers, not in the body.
      const code = headerString(headers[':error-code']?.value) || 'error';
      const text = headerString(headers[':error-message']?.value) || body;
      sink({ event: code, data: JSON.stringify({ message: text }), id: '', exception: true });
    }
  }
}

function headerString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
