import type { Dispatcher } from 'undici';
import type { ShapeCache } from './shape-cache.js';
import type { Frame } from '../framing/frame.js';
import type { FailureWords } from './failure.js';
import type { StoredEndpoint } from '../registry/types.js';
import type { ChatRequest } from './chat/request.js';

/** Answer text: exactly the element type of Elasticsearch's `completion` array. Never empty. */
export interface TextDelta {
  delta: string;
}
/** Thinking / reasoning text: never part of the answer. */
export interface ReasoningDelta {
  reasoning: string;
}
/** Why the provider stopped (`stop`, `length`, `end_turn`, …), in the provider's words. */
export interface FinishDelta {
  finish_reason: string;
}
/** Token counts as the provider reports them. */
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
/** One decoded piece of a provider's answer. */
export type DeltaObject =
  TextDelta | ReasoningDelta | FinishDelta | UsageDelta | RoleDelta | ToolCallDelta | RefusalDelta;

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
   * The normalizer's envelope cache, when it has one and consults it before anything else
   * in `frame` (so that an event the cache reads needs no other step): the composed
   * pipeline then also matches whole events in the raw bytes with it.
   */
  readonly envelopeCache?: ShapeCache;
  /**
   * True once the provider's end marker (`[DONE]`, `stream-end`, …) has been read
   * without error: nothing after it may change the outcome, so the stages feed it
   * nothing more. Left unset by providers whose stream may go on after a marker
   * (Anthropic: several messages in one body; Gemini: no marker).
   */
  readonly finished?: boolean;
}

/**
 * The response half of a provider: all the decoding stages need. Every provider of the
 * table is one; a custom object of this shape can be passed to the stages too.
 */
export interface ResponseReader {
  /** Named in error messages. */
  readonly id: string;
  /** A fresh normalizer for one response body. */
  createNormalizer(options?: ReaderOptions): EventNormalizer;
  /** The provider writes bare JSON into its SSE streams (Vertex AI's mid-stream error): see `FramingOptions.rawJson`. */
  readonly rawJson?: boolean;
  /** How Elasticsearch words this provider's failed HTTP statuses; the shared wording when absent. */
  readonly failureWords?: FailureWords;
  /**
   * The provider's own message in a non-2xx response body (already JSON-parsed when it
   * was JSON, else the text). Undefined when the body says nothing useful.
   */
  errorMessage(body: unknown): string | undefined;
}

/** What a `completion` request asks of a provider. */
export interface RequestInput {
  endpoint: StoredEndpoint;
  /** The one input string of a `completion` request. */
  input: string;
  /** The endpoint's task settings overlaid with the request's. */
  taskSettings: Record<string, unknown>;
}

/** What a `chat_completion` request asks of a provider. */
export interface ChatInput {
  endpoint: StoredEndpoint;
  /** The validated chat request (see `parseChatRequest`); its `model` overrides the endpoint's. */
  request: ChatRequest;
  /** The endpoint's task settings. */
  taskSettings: Record<string, unknown>;
}

/** What is sent to the provider. */
export interface ProviderRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** What the request asked for that the response reader must know (it cannot be told from the body). */
  readerOptions?: ReaderOptions;
}

/**
 * What a request decided about its response's shape. Readers guess when it is absent
 * (a body from the CLI or a caller of the library whose request is unknown).
 */
export interface ReaderOptions {
  /** DashScope: the request asked for incremental (`true`) or cumulative (`false`) text. */
  incremental?: boolean;
}

/**
 * What a request builder may use besides the endpoint: the dispatcher for token calls, a
 * credential cache that lives as long as the client, and the client's overrides.
 */
export interface RequestContext {
  readonly dispatcher: Dispatcher;
  /** Credentials made per request (token clients, IAM tokens); keyed by a hash, never by a secret. */
  readonly cache: Map<string, unknown>;
  /** Supplies Vertex AI access tokens instead of the service-account flow (workload identity, tests). */
  readonly googleAccessToken?: ((endpoint: StoredEndpoint) => Promise<string>) | undefined;
  /** Supplies IBM Cloud IAM tokens for a watsonx API key instead of the token exchange. */
  readonly ibmIamToken?: ((apiKey: string) => Promise<string>) | undefined;
  /** IBM Cloud IAM token URL. Default https://iam.cloud.ibm.com/identity/token. */
  readonly ibmIamUrl?: string | undefined;
}

/**
 * One Elasticsearch inference service, both directions: the request it sends for a
 * `completion` (URL, headers with its auth, body) and the reader of what it answers.
 */
export interface Provider<Id extends string = string> extends ResponseReader {
  /** Elasticsearch's service name, e.g. `openai`, `amazonbedrock`. */
  readonly id: Id;
  /** One line for `inference-stream providers`. */
  readonly description: string;
  /** `service_settings` keys a PUT must carry. */
  readonly required: readonly string[];
  /** `service_settings` keys of which at least one is needed (e.g. api_key or entra_id). */
  readonly oneOf?: readonly string[] | undefined;
  /** The provider request for one `completion` input; may fetch or sign credentials. */
  request(input: RequestInput, context: RequestContext): ProviderRequest | Promise<ProviderRequest>;
  /**
   * The provider request for a `chat_completion` (messages, tools, tool choice) in the
   * provider's own API; throws a 400 before any call for what the provider cannot do.
   */
  chat(input: ChatInput, context: RequestContext): ProviderRequest | Promise<ProviderRequest>;
}
