import { defineProvider } from './define.js';
import { AnthropicMessagesNormalizer } from './dialects/anthropic-messages.js';
import { mapSettings, modelOf, need, resolveUrl } from './settings.js';
import type { ProviderRequest, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { anthropicChatBody } from './chat/anthropic.js';
import { anthropicWords } from './failure.js';

/** Messages API: `max_tokens` is required by Anthropic; 1024 when the endpoint sets none. */
function request(input: RequestInput): ProviderRequest {
  const { endpoint } = input;
  const body: Record<string, unknown> = {
    model: modelOf(endpoint),
    messages: [{ role: 'user', content: input.input }],
    max_tokens: input.taskSettings.max_tokens ?? 1024,
    stream: true,
  };
  mapSettings(
    input.taskSettings,
    { temperature: 'temperature', top_p: 'top_p', top_k: 'top_k', stop: 'stop_sequences' },
    body,
  );
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
}

/** Anthropic Messages: `x-api-key`, named SSE events ending at `message_stop`. */
export const anthropic = defineProvider({
  id: 'anthropic',
  description: 'Anthropic Messages SSE (named events, message_stop)',
  required: ['api_key', 'model_id'],
  request,
  chat: (input, context) =>
    chatVia(request, input, context, (t) => anthropicChatBody(input.request, t, input.taskSettings)),
  createNormalizer: () => new AnthropicMessagesNormalizer('anthropic'),
  failureWords: anthropicWords,
});
