export { ProviderClient, type ProviderClientOptions, type ProviderCallOptions, type UpstreamResponse } from './client.js';
export { sharedAgent, closeSharedAgent } from './agent.js';
export { services, getService, serviceIds } from './services.js';
export type { ServiceDefinition, ProviderRequest, RequestInput, AuthContext } from './types.js';
