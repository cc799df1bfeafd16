import { defineProvider } from './define.js';
import { AnthropicMessagesNormalizer, anthropicMessagesBody } from './dialects/anthropic-messages.js';
import { modelOf, need, resolveUrl } from './settings.js';
import type { ProviderRequest, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { anthropicChatBody } from './chat/anthropic.js';
import { anthropicWords } from './failure.js';

/** Messages API: `x-api-key` and the `anthropic-version` header. */
function request(input: RequestInput): ProviderRequest {
  const { endpoint } = input;
  return {
    url: resolveUrl(endpoint, 'https://api.anthropic.com/v1/messages'),
    headers: {
      'x-api-key': need(endpoint, 'api_key'),
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      accept: 'text/event-stream',
    },
    body: anthropicMessagesBody(input, { model: modelOf(endpoint) }),
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
