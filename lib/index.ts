export { InferenceError, ErrorType, errorBody, restStatusFor, toInferenceError } from './errors.js';
export type { Frame, FrameDecoder, FramingOptions } from './framing/frame.js';
export { SseDecoder } from './framing/sse.js';
export { NdjsonDecoder } from './framing/ndjson.js';
export { JsonValuesDecoder } from './framing/json-values.js';
export { EventStreamDecoder } from './framing/event-stream.js';
export { DetectingDecoder, framingForContentType, framingForFirstByte, type FramingName } from './framing/detect.js';
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
export { getProvider, listProviders, providerIds } from './providers/index.js';
export type { Provider, DeltaObject, TextDelta, ReasoningDelta, FinishDelta, UsageDelta, EventNormalizer } from './providers/types.js';
export { normalize, NormalizeStream } from './providers/normalize.js';
export { batch, Batch } from './output/batch.js';
export { Batcher, type BatchOptions } from './output/batcher.js';
export { serialize, Serializer, completionEvent, doneEvent, errorEvent, type SerializeOptions } from './output/serialize.js';
export { BodyDecoder, type DecodeOptions } from './pipeline/body-decoder.js';
export { deltaStream, DeltaStream, type DeltaStreamOptions } from './pipeline/delta-stream.js';
export { completionStream, CompletionStream, type CompletionStreamOptions } from './pipeline/completion-stream.js';
export { createInferenceHandler, startInferenceServer, startDemoProvider, type InferenceHandler, type InferenceHandlerOptions, type InferenceServer, type InferenceServerOptions, type DemoProvider, type DemoProviderOptions } from './server/index.js';
export { MemoryRegistry, FileRegistry, publicEndpoint, isSecretSetting, type EndpointRegistry, type StoredEndpoint } from './registry/index.js';
export { ProviderClient, type ProviderClientOptions, type ProviderCallOptions, type UpstreamResponse } from './providers/client/client.js';
export { sharedAgent, closeSharedAgent } from './providers/client/agent.js';
export { services, getService, serviceIds } from './providers/client/services.js';
export { type ServiceDefinition, type ProviderRequest } from './providers/client/types.js';
