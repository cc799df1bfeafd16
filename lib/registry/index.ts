export type { EndpointRegistry, StoredEndpoint } from './types.js';
export { publicEndpoint, isSecretSetting } from './types.js';
export { MemoryRegistry } from './memory.js';
export { FileRegistry } from './file.js';
