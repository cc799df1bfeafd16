import { defineProvider } from './define.js';
import { chatBody, OpenAiChatNormalizer } from './dialects/openai-chat.js';
import { jsonHeaders, need, resolveUrl, text } from './settings.js';
import type { ProviderRequest, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { openAiChatBody } from './chat/openai.js';
import { azureOpenAiWords } from './failure.js';

/** The deployment route, `api-key` header or an Entra ID bearer token; no model in the body. */
function request(input: RequestInput): ProviderRequest {
  const { endpoint } = input;
  const resource = need(endpoint, 'resource_name');
  const deployment = need(endpoint, 'deployment_id');
  const version = need(endpoint, 'api_version');
  const url = resolveUrl(
    endpoint,
    `https://${resource}.openai.azure.com/openai/deployments/${encodeURIComponent(deployment)}/chat/completions?api-version=${encodeURIComponent(version)}`,
  );
  const key = text(endpoint.service_settings, 'api_key');
  const headers = jsonHeaders();
  if (key) headers['api-key'] = key;
  else headers.authorization = `Bearer ${need(endpoint, 'entra_id')}`;
  return { url, headers, body: JSON.stringify(chatBody(input)) };
}

/**
 * Azure OpenAI: OpenAI chunks plus content-filter annotations, which carry no text:
 * a first `prompt_filter_results` chunk with `choices: []`, and (asynchronous filter)
 * choices with `content_filter_offsets` and no `delta`, even after the finish_reason.
 * A filtered completion ends with `finish_reason: "content_filter"`.
 */
export const azureopenai = defineProvider({
  id: 'azureopenai',
  description: 'Azure OpenAI chat completions SSE (OpenAI chunks + content filter annotations, data: [DONE])',
  required: ['resource_name', 'deployment_id', 'api_version'],
  oneOf: ['api_key', 'entra_id'],
  request,
  // the deployment names the model: none in the body
  chat: (input, context) =>
    chatVia(request, input, context, (t) =>
      openAiChatBody(input.request, t, {
        model: false,
        developerRole: true,
        maxTokensAs: 'max_completion_tokens',
        includeUsage: true,
      }),
    ),
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'azureopenai' }),
  failureWords: azureOpenAiWords,
});
