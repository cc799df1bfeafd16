import type { Frame } from '../framing/frame.js';

/** Answer text: exactly the element type of Elasticsearch's `completion` array. Never empty. */
export interface TextDelta {
  delta: string;
}
/** Thinking / reasoning text: never part of the answer. */
export interface ReasoningDelta {
  reasoning: string;
}
export interface FinishDelta {
  finish_reason: string;
}
export interface UsageDelta {
  usage: Record<string, unknown>;
}
export type DeltaObject = TextDelta | ReasoningDelta | FinishDelta | UsageDelta;

/** Per-stream state that turns one provider's frames into delta objects. */
export interface EventNormalizer {
  /**
   * Turn one frame into zero or more delta objects, appended to `out`.
   * Throws an InferenceError for a provider error or a malformed event; what it appended
   * before throwing is still delivered.
   */
  frame(frame: Frame, out: DeltaObject[]): void;
  /**
   * End of input: throws `incomplete_stream` when the provider's own end marker was not
   * seen. `truncated` says the framing stopped inside an SSE event (dropped, as WHATWG
   * says): a provider that ends at EOF without a marker treats that as cut short.
   */
  end(out: DeltaObject[], truncated?: boolean): void;
  /**
   * True once the provider's end marker (`[DONE]`, `stream-end`, …) has been read
   * without error: nothing after it may change the outcome, so the stages feed it
   * nothing more. Left unset by providers whose stream may go on after a marker
   * (Anthropic: several messages in one body; Gemini: no marker).
   */
  readonly finished?: boolean;
}

export interface Provider {
  /** Elasticsearch's service name, e.g. `openai`, `amazonbedrock`. */
  readonly id: string;
  /** One line for `inference-stream providers`. */
  readonly description: string;
  /** A fresh normalizer for one response body. */
  createNormalizer(): EventNormalizer;
  /** The provider writes bare JSON into its SSE streams (Vertex AI's mid-stream error): see `FramingOptions.rawJson`. */
  readonly rawJson?: boolean;
  /**
   * The provider's own message in a non-2xx response body (already JSON-parsed when it
   * was JSON, else the text). Undefined when the body says nothing useful.
   */
  errorMessage(body: unknown): string | undefined;
}

export function isTextDelta(d: DeltaObject): d is TextDelta {
  return typeof (d as TextDelta).delta === 'string';
}
