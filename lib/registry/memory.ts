import { tooManyEndpoints } from '../errors.js';
import type { EndpointRegistry, PutOptions, StoredEndpoint } from './types.js';

/** The default registry: a Map, gone when the process ends. */
export class MemoryRegistry implements EndpointRegistry {
  protected readonly endpoints = new Map<string, StoredEndpoint>();

  constructor(initial: Iterable<StoredEndpoint> = []) {
    for (const endpoint of initial) this.endpoints.set(endpoint.inference_id, endpoint);
  }

  async get(inferenceId: string): Promise<StoredEndpoint | undefined> {
    return this.endpoints.get(inferenceId);
  }

  async put(endpoint: StoredEndpoint, options: PutOptions = {}): Promise<boolean> {
    const exists = this.endpoints.has(endpoint.inference_id);
    if (options.replaceOnly ? !exists : !options.overwrite && exists) return false;
    if (!exists && options.maxEndpoints !== undefined && this.endpoints.size >= options.maxEndpoints)
      throw tooManyEndpoints(options.maxEndpoints);
    this.endpoints.set(endpoint.inference_id, endpoint);
    return true;
  }

  async delete(inferenceId: string): Promise<boolean> {
    return this.endpoints.delete(inferenceId);
  }

  async list(): Promise<StoredEndpoint[]> {
    return [...this.endpoints.values()].sort((a, b) => (a.inference_id < b.inference_id ? -1 : 1));
  }
}
