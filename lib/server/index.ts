export { createInferenceHandler, type InferenceHandler, type InferenceHandlerOptions } from './handler.js';
export { startInferenceServer, type InferenceServer, type InferenceServerOptions } from './server.js';
export { startDemoProvider, type DemoProvider, type DemoProviderOptions } from './demo-provider.js';
