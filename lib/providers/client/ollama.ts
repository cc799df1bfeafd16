import { mapSettings, modelOf, resolveUrl } from './settings.js';
import type { ProviderRequest, ServiceDefinition } from './types.js';

/** Ollama's native `/api/chat` (NDJSON answer); no key, local by default. */
export const ollama: ServiceDefinition = {
  id: 'ollama',
  required: ['model_id'],
  build(input): ProviderRequest {
    const { endpoint } = input;
    const options = mapSettings(input.taskSettings, { max_tokens: 'num_predict', temperature: 'temperature', top_p: 'top_p', top_k: 'top_k', stop: 'stop' });
    const body: Record<string, unknown> = { model: modelOf(endpoint), messages: [{ role: 'user', content: input.input }], stream: true };
    if (Object.keys(options).length > 0) body.options = options;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/x-ndjson' };
    return { url: resolveUrl(endpoint, 'http://localhost:11434/api/chat'), headers, body: JSON.stringify(body) };
  },
};
