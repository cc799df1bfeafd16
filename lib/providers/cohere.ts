import { defineProvider } from './define.js';
import { CohereNormalizer } from './dialects/cohere.js';
import { mapSettings, modelOf, need, resolveUrl, text } from './settings.js';
import type { ProviderRequest, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { cohereChatBody } from './chat/cohere.js';
import { cohereWords } from './failure.js';

/** v1 (`message`, NDJSON answer) by default, v2 (`messages`, SSE) with `api_version: V2`. */
function request(input: RequestInput): ProviderRequest {
  const { endpoint } = input;
  const v2 = text(endpoint.service_settings, 'api_version')?.toUpperCase() === 'V2';
  const body: Record<string, unknown> = v2
    ? { model: modelOf(endpoint), messages: [{ role: 'user', content: input.input }], stream: true }
    : { message: input.input, model: modelOf(endpoint), stream: true };
  mapSettings(
    input.taskSettings,
    { max_tokens: 'max_tokens', temperature: 'temperature', top_p: 'p', top_k: 'k' },
    body,
  );
  return {
    url: resolveUrl(endpoint, v2 ? 'https://api.cohere.com/v2/chat' : 'https://api.cohere.com/v1/chat'),
    headers: {
      authorization: `Bearer ${need(endpoint, 'api_key')}`,
      'content-type': 'application/json',
      accept: v2 ? 'text/event-stream' : 'application/stream+json',
    },
    body: JSON.stringify(body),
  };
}

/** Cohere chat, v1 or v2: bearer key. */
export const cohere = defineProvider({
  id: 'cohere',
  description: 'Cohere chat: v1 NDJSON (event_type, stream-end) and v2 SSE or JSON lines (content-delta, message-end)',
  required: ['api_key'],
  request,
  // chat always speaks v2 (messages, tools); v1 has neither in this form
  chat: (input, context) =>
    chatVia(
      (i) =>
        request({
          ...i,
          endpoint: { ...i.endpoint, service_settings: { ...i.endpoint.service_settings, api_version: 'V2' } },
        }),
      input,
      context,
      (t) => cohereChatBody(input.request, t),
    ),
  createNormalizer: () => new CohereNormalizer('cohere'),
  failureWords: cohereWords,
});
