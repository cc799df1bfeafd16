import { mapSettings, modelOf, need, resolveUrl } from './settings.js';
import type { ProviderRequest, ServiceDefinition } from './types.js';

/** Anthropic Messages API: `max_tokens` is required by Anthropic; 1024 when the endpoint sets none. */
export const anthropic: ServiceDefinition = {
  id: 'anthropic',
  required: ['api_key', 'model_id'],
  build(input): ProviderRequest {
    const { endpoint } = input;
    const body: Record<string, unknown> = {
      model: modelOf(endpoint),
      messages: [{ role: 'user', content: input.input }],
      max_tokens: input.taskSettings.max_tokens ?? 1024,
      stream: true,
    };
    mapSettings(input.taskSettings, { temperature: 'temperature', top_p: 'top_p', top_k: 'top_k', stop: 'stop_sequences' }, body);
    return {
      url: resolveUrl(endpoint, 'https://api.anthropic.com/v1/messages'),
      headers: {
        'x-api-key': need(endpoint, 'api_key'),
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      body: JSON.stringify(body),
    };
  },
};
