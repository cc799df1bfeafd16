/** What every framing decoder hands on: one provider event, still undecoded JSON text. */
export interface Frame {
  /** SSE event type (`message` when the event named none); AWS `:event-type` or `:exception-type`. */
  event: string;
  /** The payload text: SSE data lines joined with `\n`, one JSON value, or one AWS frame's payload. */
  data: string;
  /** SSE last event id (`''` when none). */
  id: string;
  /** Text that arrived outside the framing: lines of an SSE stream that are not SSE fields (Vertex AI writes its mid-stream error as raw JSON). */
  raw?: true;
  /** An AWS event-stream frame whose `:message-type` is `exception` or `error`. */
  exception?: true;
}

export type FrameSink = (frame: Frame) => void;

/**
 * The push-style core every framing shares, so that the composed pipeline runs
 * framing, normalizing and batching in one stream with no hop between them.
 */
export interface FrameDecoder {
  /** Decode one read, handing every complete frame to `sink`. Throws an InferenceError on a broken frame. */
  write(chunk: Buffer, sink: FrameSink): void;
  /** End of input: hands on what is left and throws an InferenceError if input stopped inside a frame. */
  end(sink: FrameSink): void;
}

export interface FramingOptions {
  /** Largest frame, line or event in bytes; larger input is an error rather than unbounded memory. Default 32 MiB. */
  maxFrameBytes?: number;
}

/** The default largest event, line, JSON value or AWS frame a framing accepts (32 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 32 * 1024 * 1024;
