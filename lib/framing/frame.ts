/** What every framing decoder hands on: one provider event, still undecoded JSON text. */
export interface Frame {
  /** SSE event type (`message` when the event named none); AWS `:event-type` or `:exception-type`. */
  event: string;
  /** The payload text: SSE data lines joined with `\n`, one JSON value, or one AWS frame's payload. */
  data: string;
  /** SSE last event id (`''` when none). */
  id: string;
  /** Bare JSON that arrived outside the SSE fields (only with the `rawJson` option: Vertex AI writes its mid-stream error so). */
  raw?: true;
  /** An AWS event-stream frame whose `:message-type` is `exception` or `error`. */
  exception?: true;
  /** `data` already parsed, when the framing parsed it to find where the value ends (JSON arrays). */
  value?: unknown;
}

export type FrameSink = (frame: Frame) => void;

/**
 * Offered the payload bytes `buf[from…to)` of an event frame named `event` before the
 * frame is decoded; returns true when it read the payload itself (no frame is made).
 * `buf` is the read the frame came in when `inRead`, else the decoder's own buffer for a
 * frame collected across reads, which the next such frame overwrites.
 */
export type PayloadReader = (buf: Buffer, from: number, to: number, event: string, inRead: boolean) => boolean;

/**
 * Offered a JSON value that starts at `buf[from]` (a `{`, in the read itself) before the
 * framing scans it: returns where the value ends (exclusive, at most `limit`) when it read
 * the value itself (no frame is made), else a negative number and the framing reads it.
 */
export type ValueReader = (buf: Buffer, from: number, limit: number) => number;

/**
 * The push-style core every framing shares, so that the composed pipeline runs
 * framing, normalizing and batching in one stream with no hop between them.
 */
export interface FrameDecoder {
  /** Decode one read, handing every complete frame to `sink`. Throws an InferenceError on a broken frame. */
  write(chunk: Buffer, sink: FrameSink): void;
  /**
   * End of input: hands on what is left. Throws an InferenceError when input stopped
   * inside a frame a provider cannot have meant to end there (a JSON value, an AWS frame).
   * SSE follows WHATWG instead: an unterminated last event is dropped, and `end` returns
   * true so that the provider stage can decide, from its own end marker, whether the
   * stream was cut short.
   */
  end(sink: FrameSink): boolean;
  /**
   * Optional, for the byte-level fast path: true when nothing is carried and the next byte
   * written starts a new frame, so whole frames may be read without this decoder.
   */
  idle?(): boolean;
  /** Optional: how this framing writes a frame with event name `event`, in its plainest form (null: it cannot say). */
  canonical?(event: string): FrameTemplate | null;
  /** Optional: where the first frame starting at or after `from` ends (exclusive) in the plainest form, or -1. */
  frameEnd?(chunk: Buffer, from: number): number;
  /**
   * Optional, for binary framings whose payload sits between bytes that vary (AWS event
   * stream): set to read event payloads straight from the bytes, after the frame is checked.
   */
  payloadReader?: PayloadReader | null;
  /** Optional, for framings of bare JSON values (a streamed array): set to read values straight from the bytes. */
  valueReader?: ValueReader | null;
}

/** The bytes around a frame's payload, e.g. SSE `data: ` … `\n\n`, NDJSON `` … `\n`. */
export interface FrameTemplate {
  head: string;
  end: string;
}

export interface FramingOptions {
  /** Largest frame, line or event in bytes; larger input is an error rather than unbounded memory. Default 32 MiB. */
  maxFrameBytes?: number;
  /**
   * SSE only: hand on bare JSON lines outside any SSE field (a line opening with `{` or `[`,
   * up to the next blank line) as one `raw` frame, as Vertex AI writes its mid-stream
   * error. Off by default: WHATWG ignores such lines.
   */
  rawJson?: boolean;
}

/** The default largest event, line, JSON value or AWS frame a framing accepts (32 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 32 * 1024 * 1024;
