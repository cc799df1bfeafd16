/**
 * `inference-stream/stages`: every stage on its own, for pipelines composed by hand, and
 * the pieces the composed streams are made of.
 *
 *     provider bytes -> framing (sseParser, ndjsonParser, …) -> normalize(provider)
 *                    -> batch() -> serialize() -> Elasticsearch SSE bytes
 */

// Framing: provider bytes -> frames
export type { Frame, FrameDecoder, FrameSink, FramingOptions } from './framing/frame.js';
export { SseDecoder } from './framing/sse.js';
export { NdjsonDecoder } from './framing/ndjson.js';
export { JsonValuesDecoder } from './framing/json-values.js';
export { EventStreamDecoder } from './framing/event-stream.js';
export {
  DetectingDecoder,
  createFrameDecoder,
  framingForContentType,
  framingForFirstByte,
  type FramingName,
} from './framing/detect.js';
export {
  FramingStream,
  sseParser,
  ndjsonParser,
  jsonArrayParser,
  jsonSequenceParser,
  eventStreamParser,
  autoParser,
  type FramingStreamOptions,
} from './framing/transforms.js';

// Providers: frames -> delta objects, and the requests they are sent
export { getProvider, isProviderId, listProviders, providerIds, type ProviderId } from './providers/index.js';
export type {
  Provider,
  ResponseReader,
  EventNormalizer,
  DeltaObject,
  TextDelta,
  ReasoningDelta,
  FinishDelta,
  UsageDelta,
  RoleDelta,
  ToolCallDelta,
  RefusalDelta,
  RequestInput,
  ChatInput,
  RequestContext,
  ProviderRequest,
} from './providers/types.js';
export {
  parseChatRequest,
  type ChatRequest,
  type ChatMessage,
  type ChatTool,
  type ChatToolCall,
  type ChatToolChoice,
  type ChatContent,
  type ChatTextPart,
} from './providers/chat/request.js';
export { normalize, NormalizeStream } from './providers/normalize.js';
export {
  ProviderClient,
  CallAbort,
  sharedAgent,
  closeSharedAgent,
  type CallSignal,
  type ProviderClientOptions,
  type ProviderCallOptions,
  type UpstreamResponse,
} from './providers/transport.js';

// Output: delta objects -> Elasticsearch's `completion` events
export { batch, Batch } from './output/batch.js';
export { Batcher, type BatchOptions } from './output/batcher.js';
export {
  serialize,
  Serializer,
  completionEvent,
  doneEvent,
  errorEvent,
  type SerializeOptions,
} from './output/serialize.js';
// Output: delta objects -> `chat.completion.chunk` events, unified errors
export {
  ChatChunker,
  chatDoneEvent,
  chatErrorEvent,
  unifiedErrorBody,
  type ChatChunkOptions,
  type UnifiedErrorBody,
} from './output/chat.js';

// The composed streams' parts
export { BodyDecoder, type DecodeOptions } from './pipeline/body-decoder.js';
export { CompletionStream, type CompletionStreamOptions } from './pipeline/completion-stream.js';
export { DeltaStream, type DeltaStreamOptions } from './pipeline/delta-stream.js';
export { ChatCompletionStream, type ChatCompletionStreamOptions } from './pipeline/chat-completion-stream.js';

// Errors in Elasticsearch's shapes
export { errorBody, restStatusFor, toInferenceError } from './errors.js';

// Registries and the server's helpers
export { publicEndpoint, isSecretSetting } from './registry/types.js';
export { startDemoProvider, type DemoProvider, type DemoProviderOptions } from './server/demo-provider.js';
