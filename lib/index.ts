/**
 * inference-stream: Elasticsearch's stream inference API as Node.js streams.
 *
 * The root holds the composed streams, the two standard framings (SSE and NDJSON), the
 * HTTP handler and server, the endpoint registries and the error class. Every single stage (framings, normalizers, batching,
 * serializing, the provider table and client) is in `inference-stream/stages`.
 */
export { completionStream, type CompletionStream, type CompletionStreamOptions } from './pipeline/completion-stream.js';
export { deltaStream, type DeltaStream, type DeltaStreamOptions } from './pipeline/delta-stream.js';
export {
  chatCompletionStream,
  type ChatCompletionStream,
  type ChatCompletionStreamOptions,
} from './pipeline/chat-completion-stream.js';
// The two spec-defined framings are at the root too (WHATWG event streams and NDJSON are what
// other suites test parsers against); every stage, these included, is in `inference-stream/stages`.
export { sseParser, ndjsonParser, type FramingStream, type FramingStreamOptions } from './framing/transforms.js';
export type { DecodeOptions } from './pipeline/body-decoder.js';
export { createInferenceHandler, type InferenceHandler, type InferenceHandlerOptions } from './server/handler.js';
export { startInferenceServer, type InferenceServer, type InferenceServerOptions } from './server/server.js';
export { MemoryRegistry } from './registry/memory.js';
export { FileRegistry } from './registry/file.js';
export type { EndpointRegistry, StoredEndpoint } from './registry/types.js';
export { InferenceError, ErrorType } from './errors.js';
export type { ProviderId } from './providers/index.js';
export type {
  DeltaObject,
  TextDelta,
  ReasoningDelta,
  FinishDelta,
  UsageDelta,
  ResponseReader,
  EventNormalizer,
} from './providers/types.js';
export type { Frame } from './framing/frame.js';
export type { FramingName } from './framing/detect.js';
export type { BatchOptions } from './output/batcher.js';
export type { SerializeOptions } from './output/serialize.js';
export type { Limits } from './server/limits.js';
export type { RetryPolicy } from './server/retry.js';
export type { ApiKeyConfig, ApiKeys, Privilege } from './server/api-keys.js';
export type { ProviderClient, ProviderClientOptions } from './providers/transport.js';
