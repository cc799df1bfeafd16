import { OrderedErrorTransform } from '../streams/ordered-error-transform.js';
import { EventStreamDecoder } from './event-stream.js';
import type { Frame, FrameDecoder, FramingOptions } from './frame.js';
import { JsonValuesDecoder } from './json-values.js';
import { NdjsonDecoder } from './ndjson.js';
import { SseDecoder } from './sse.js';
import { DetectingDecoder } from './detect.js';

export interface FramingStreamOptions extends FramingOptions {
  /** Readable side, in frames. Default 16. */
  highWaterMark?: number;
}

/** Bytes in, Frame objects out, for any FrameDecoder. */
export class FramingStream extends OrderedErrorTransform<Buffer, Frame> {
  private out: Frame[] = [];
  /**
   * Set at the end of input: true when it stopped inside an SSE event, which WHATWG drops.
   * A `normalize()` stage piped from this stream reads it to let the provider decide
   * whether its stream was cut short.
   */
  truncated = false;
  private readonly sink = (frame: Frame): void => {
    this.out.push(frame);
  };

  constructor(
    private readonly decoder: FrameDecoder,
    options: FramingStreamOptions = {},
  ) {
    super({ writableObjectMode: false, readableObjectMode: true, readableHighWaterMark: options.highWaterMark ?? 16 });
  }

  protected work(chunk: Buffer, out: Frame[]): void {
    this.out = out;
    this.decoder.write(chunk, this.sink);
  }

  protected finish(out: Frame[]): void {
    this.out = out;
    this.truncated = this.decoder.end(this.sink);
  }
}

/** Server-Sent Events: bytes in, `{event, data, id}` out (WHATWG rules). */
export function sseParser(options?: FramingStreamOptions): FramingStream {
  return new FramingStream(new SseDecoder(options), options);
}

/** Newline-delimited JSON: bytes in, one `{event:'message', data: line}` per non-blank line. */
export function ndjsonParser(options?: FramingStreamOptions): FramingStream {
  return new FramingStream(new NdjsonDecoder(options), options);
}

/** A streamed top-level JSON array: bytes in, one frame per element as soon as it closes. */
export function jsonArrayParser(options?: FramingStreamOptions): FramingStream {
  return new FramingStream(new JsonValuesDecoder('array', options), options);
}

/** JSON values one after another (JSON lines, one pretty-printed body, or several). */
export function jsonSequenceParser(options?: FramingStreamOptions): FramingStream {
  return new FramingStream(new JsonValuesDecoder('sequence', options), options);
}

/** AWS `application/vnd.amazon.eventstream`: bytes in, one frame per binary message (both CRCs checked). */
export function eventStreamParser(options?: FramingStreamOptions): FramingStream {
  return new FramingStream(new EventStreamDecoder(options), options);
}

/** Chooses the framing from the Content-Type, or from the first bytes when that does not decide. */
export function autoParser(contentType?: string, options?: FramingStreamOptions): FramingStream {
  return new FramingStream(new DetectingDecoder(contentType, options), options);
}
