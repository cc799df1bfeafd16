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
/**
 * The start of the assistant's message, with the provider's response id and model when it
 * names them. Only the `chat_completion` output reads it.
 */
export interface RoleDelta {
  role: 'assistant';
  id?: string;
  model?: string;
}
/**
 * A piece of a tool call, already in OpenAI's streaming form: `index` counts the calls of
 * the answer from 0; the first piece of a call carries `id` and `name` (and only it); the
 * `arguments` pieces of one index, concatenated, are the call's JSON arguments. Only the
 * `chat_completion` output reads it.
 */
export interface ToolCallDelta {
  tool_call: { index: number; id?: string; name?: string; arguments?: string };
}
/** Refusal text (OpenAI `delta.refusal`): not answer text. Only the `chat_completion` output reads it. */
export interface RefusalDelta {
  refusal: string;
}
export type DeltaObject = TextDelta | ReasoningDelta | FinishDelta | UsageDelta | RoleDelta | ToolCallDelta | RefusalDelta;

/** Per-stream state that turns one provider's frames into delta objects. */
export interface EventNormalizer {
  /**
   * Turn one frame into zero or more delta objects, appended to `out`.
   * Throws an InferenceError for a provider error or a malformed event; what it appended
   * before throwing is still delivered.
   */
  frame(frame: Frame, out: DeltaObject[]): void;
  /** End of input: throws `incomplete_stream` when the provider's own end marker was not seen. */
  end(out: DeltaObject[]): void;
}

export interface Provider {
  /** Elasticsearch's service name, e.g. `openai`, `amazonbedrock`. */
  readonly id: string;
  /** One line for `inference-stream providers`. */
  readonly description: string;
  /** A fresh normalizer for one response body. */
  createNormalizer(): EventNormalizer;
  /**
   * The provider's own message in a non-2xx response body (already JSON-parsed when it
   * was JSON, else the text). Undefined when the body says nothing useful.
   */
  errorMessage(body: unknown): string | undefined;
}
