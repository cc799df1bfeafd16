import { mapSettings, modelOf, need, resolveUrl, text } from './settings.js';
import type { RequestInput, ProviderRequest, ServiceDefinition } from './types.js';

/** OpenAI's chat-completions body for one user message, with the usual sampling settings. */
export function chatBody(input: RequestInput, options: { model?: string | undefined; maxTokensAs?: string; usage?: boolean } = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (options.model !== undefined) body.model = options.model;
  body.messages = [{ role: 'user', content: input.input }];
  body.n = 1;
  body.stream = true;
  if (options.usage) body.stream_options = { include_usage: true };
  mapSettings(input.taskSettings, {
    max_tokens: options.maxTokensAs ?? 'max_tokens',
    temperature: 'temperature',
    top_p: 'top_p',
    stop: 'stop',
    user: 'user',
  }, body);
  return body;
}

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' };
}

/** A service that speaks OpenAI's chat completions with a bearer key, differing only in data. */
function bearerChat(id: string, defaultUrl: string, extra: { usage?: boolean; maxTokensAs?: string; apiKeyOptional?: boolean } = {}): ServiceDefinition {
  return {
    id,
    required: extra.apiKeyOptional ? [] : ['api_key'],
    build(input): ProviderRequest {
      const { endpoint } = input;
      const key = text(endpoint.service_settings, 'api_key');
      const headers = key ? bearer(key) : { 'content-type': 'application/json', accept: 'text/event-stream' };
      const org = text(endpoint.service_settings, 'organization_id');
      if (org) headers['openai-organization'] = org;
      return {
        url: resolveUrl(endpoint, defaultUrl),
        headers,
        body: JSON.stringify(chatBody(input, { model: modelOf(endpoint), usage: extra.usage, maxTokensAs: extra.maxTokensAs })),
      };
    },
  };
}

export const openai = bearerChat('openai', 'https://api.openai.com/v1/chat/completions', { usage: true, maxTokensAs: 'max_completion_tokens' });
export const mistral = bearerChat('mistral', 'https://api.mistral.ai/v1/chat/completions');
export const deepseek = bearerChat('deepseek', 'https://api.deepseek.com/chat/completions', { usage: true });

/** Hugging Face: the url is required (an Inference Endpoint or the router), OpenAI chat protocol. */
export const huggingFace: ServiceDefinition = {
  ...bearerChat('hugging_face', 'https://router.huggingface.co/v1/chat/completions'),
  required: ['api_key', 'url'],
};

/** Azure OpenAI: deployment route, `api-key` header or an Entra ID bearer token; no model in the body. */
export const azureOpenAi: ServiceDefinition = {
  id: 'azureopenai',
  required: ['resource_name', 'deployment_id', 'api_version'],
  oneOf: ['api_key', 'entra_id'],
  build(input): ProviderRequest {
    const { endpoint } = input;
    const resource = need(endpoint, 'resource_name');
    const deployment = need(endpoint, 'deployment_id');
    const version = need(endpoint, 'api_version');
    const url = resolveUrl(
      endpoint,
      `https://${resource}.openai.azure.com/openai/deployments/${encodeURIComponent(deployment)}/chat/completions?api-version=${encodeURIComponent(version)}`,
    );
    const key = text(endpoint.service_settings, 'api_key');
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
    if (key) headers['api-key'] = key;
    else headers.authorization = `Bearer ${need(endpoint, 'entra_id')}`;
    return { url, headers, body: JSON.stringify(chatBody(input)) };
  },
};

/**
 * Azure AI Studio / Foundry: the user's `target`; `token` endpoints take the chat body with
 * sampling under `parameters`, `realtime` ones `input_data` (ES's request entities).
 * Auth: `api-key` for provider openai, raw key for token endpoints, bearer for realtime.
 */
export const azureAiStudio: ServiceDefinition = {
  id: 'azureaistudio',
  required: ['target', 'api_key'],
  build(input): ProviderRequest {
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
      ? { input_data: { input_string: [{ role: 'user', content: input.input }], ...(hasParameters ? { parameters } : {}) }, stream: true }
      : { messages: [{ content: input.input, role: 'user' }], ...(hasParameters ? { parameters } : {}), stream: true };
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
    if (provider === 'openai') headers['api-key'] = key;
    else headers.authorization = realtime ? `Bearer ${key}` : key;
    const url = text(endpoint.service_settings, 'url') !== undefined ? resolveUrl(endpoint, target) : target;
    return { url, headers, body: JSON.stringify(body) };
  },
};
