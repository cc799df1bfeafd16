import { EventStreamDecoder } from './event-stream.js';
import type { FrameDecoder, FrameSink, FramingOptions } from './frame.js';
import { JsonValuesDecoder } from './json-values.js';
import { NdjsonDecoder } from './ndjson.js';
import { SseDecoder } from './sse.js';

export type FramingName = 'sse' | 'ndjson' | 'json-array' | 'json-sequence' | 'event-stream';

/** A decoder for one framing by name. */
export function createFrameDecoder(name: FramingName, options?: FramingOptions): FrameDecoder {
  switch (name) {
    case 'sse':
      return new SseDecoder(options);
    case 'ndjson':
      return new NdjsonDecoder(options);
    case 'json-array':
      return new JsonValuesDecoder('array', options);
    case 'json-sequence':
      return new JsonValuesDecoder('sequence', options);
    case 'event-stream':
      return new EventStreamDecoder(options);
  }
}

/**
 * The framing a Content-Type decides on its own, or undefined when the first bytes must
 * decide: `application/json` bodies are sniffed too, since gateways label SSE as JSON.
 */
export function framingForContentType(contentType: string | undefined): FramingName | undefined {
  if (!contentType) return undefined;
  const semi = contentType.indexOf(';');
  const mime = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  switch (mime) {
    case 'application/vnd.amazon.eventstream':
      return 'event-stream';
    case 'application/x-ndjson':
    case 'application/ndjson':
    case 'application/jsonl':
    case 'application/jsonlines':
    case 'application/x-jsonlines':
    case 'application/stream+json':
      return 'ndjson';
    default:
      return undefined;
  }
}

/** The framing the first meaningful byte implies: `[` array, `{` JSON values, a zero byte AWS frames, else SSE. */
export function framingForFirstByte(byte: number): FramingName {
  if (byte === 0x5b) return 'json-array';
  if (byte === 0x7b) return 'json-sequence';
  if (byte === 0x00) return 'event-stream';
  return 'sse';
}

function skippable(byte: number): boolean {
  // whitespace and the bytes of a UTF-8 BOM
  return (
    byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0xef || byte === 0xbb || byte === 0xbf
  );
}

/**
 * Holds reads until a meaningful first byte shows which framing the body uses, then
 * hands them to that framing's decoder. When the Content-Type decides, no read is held.
 */
export class DetectingDecoder implements FrameDecoder {
  private inner: FrameDecoder | null;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private static readonly MAX_HELD = 64 * 1024;

  constructor(
    contentType: string | undefined,
    private readonly options: FramingOptions = {},
    private readonly fallback: FramingName = 'sse',
  ) {
    const decided = framingForContentType(contentType);
    this.inner = decided ? createFrameDecoder(decided, options) : null;
  }

  /** The framing in use, once known. */
  get framing(): FrameDecoder | null {
    return this.inner;
  }

  write(chunk: Buffer, sink: FrameSink): void {
    if (this.inner !== null) {
      this.inner.write(chunk, sink);
      return;
    }
    for (let i = 0; i < chunk.length; i++) {
      if (!skippable(chunk[i]!)) return this.decide(framingForFirstByte(chunk[i]!), chunk, sink);
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > DetectingDecoder.MAX_HELD) this.decide(this.fallback, undefined, sink);
  }

  /**
   * Decides the framing from the first meaningful byte of `chunk` without writing it (the
   * reads held so far go to the chosen decoder first); the caller then writes `chunk`.
   * Returns the framing in use, or null while only whitespace was seen.
   */
  choose(chunk: Buffer, sink: FrameSink): FrameDecoder | null {
    if (this.inner === null) {
      for (let i = 0; i < chunk.length; i++) {
        if (!skippable(chunk[i]!)) {
          this.decide(framingForFirstByte(chunk[i]!), undefined, sink);
          break;
        }
      }
    }
    return this.inner;
  }

  end(sink: FrameSink): boolean {
    if (this.inner === null) this.decide(this.fallback, undefined, sink);
    return this.inner!.end(sink);
  }

  private decide(name: FramingName, chunk: Buffer | undefined, sink: FrameSink): void {
    const inner = createFrameDecoder(name, this.options);
    this.inner = inner;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const h of held) inner.write(h, sink);
    if (chunk) inner.write(chunk, sink);
  }
}
