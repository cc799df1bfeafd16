import { defineProvider } from './define.js';
import { OpenAiChatNormalizer } from './dialects/openai-chat.js';
import { jsonHeaders, mapSettings, need, resolveUrl, text } from './settings.js';
import type { ProviderRequest, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { openAiChatBody } from './chat/openai.js';
import { unsupportedByProvider } from '../errors.js';
import { azureMistralWords } from './failure.js';

/**
 * The user's `target`; `token` endpoints take the chat body with sampling under
 * `parameters`, `realtime` ones `input_data` (Elasticsearch's request entities).
 * Auth: `api-key` for provider openai, the raw key for token endpoints, bearer for realtime.
 */
function request(input: RequestInput): ProviderRequest {
  const { endpoint } = input;
  const target = need(endpoint, 'target');
  const key = need(endpoint, 'api_key');
  const provider = text(endpoint.service_settings, 'provider');
  const realtime = text(endpoint.service_settings, 'endpoint_type') === 'realtime';
  const parameters = mapSettings(input.taskSettings, {
    temperature: 'temperature',
    top_p: 'top_p',
    do_sample: 'do_sample',
    max_new_tokens: 'max_new_tokens',
    max_tokens: 'max_new_tokens',
  });
  const hasParameters = Object.keys(parameters).length > 0;
  const body = realtime
    ? {
        input_data: {
          input_string: [{ role: 'user', content: input.input }],
          ...(hasParameters ? { parameters } : {}),
        },
        stream: true,
      }
    : { messages: [{ content: input.input, role: 'user' }], ...(hasParameters ? { parameters } : {}), stream: true };
  const headers = jsonHeaders();
  if (provider === 'openai') headers['api-key'] = key;
  else headers.authorization = realtime ? `Bearer ${key}` : key;
  const url = text(endpoint.service_settings, 'url') !== undefined ? resolveUrl(endpoint, target) : target;
  return { url, headers, body: JSON.stringify(body) };
}

/**
 * Azure AI Studio / Foundry: OpenAI-compatible chunks from the hosted model; some models
 * (DeepSeek) send explicit nulls (`"role":null,"content":null,"tool_calls":null`) and
 * `reasoning_content`.
 */
export const azureaistudio = defineProvider({
  id: 'azureaistudio',
  description: 'Azure AI Studio / Foundry chat completions SSE (OpenAI-compatible, reasoning_content, data: [DONE])',
  required: ['target', 'api_key'],
  request,
  chat: (input, context) =>
    chatVia(request, input, context, (t, endpoint) => {
      // a managed online (`realtime`) deployment takes `input_data`, not a chat request
      if (text(endpoint.service_settings, 'endpoint_type') === 'realtime')
        throw unsupportedByProvider('azureaistudio', 'chat_completion on a realtime endpoint');
      return openAiChatBody(input.request, t);
    }),
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'azureaistudio' }),
  failureWords: azureMistralWords,
});
