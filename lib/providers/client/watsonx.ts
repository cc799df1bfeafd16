import { chatBody } from './openai-compatible.js';
import { need, resolveUrl, text } from './settings.js';
import type { ProviderRequest, ServiceDefinition } from './types.js';

/**
 * IBM watsonx.ai chat stream. `url` is the region's base URL (required, as in ES). On IBM
 * Cloud hosts the API key is exchanged for an IAM token; any other host (watsonx software,
 * a test server) gets the key itself as the bearer token.
 */
export const watsonx: ServiceDefinition = {
  id: 'watsonxai',
  required: ['api_key', 'url', 'api_version', 'model_id'],
  async build(input, auth): Promise<ProviderRequest> {
    const { endpoint } = input;
    const base = new URL(need(endpoint, 'url'));
    const version = encodeURIComponent(need(endpoint, 'api_version'));
    const url = base.pathname.includes('/ml/v1/')
      ? base.href
      : resolveUrl(endpoint, `${base.origin}/ml/v1/text/chat_stream?version=${version}`);
    const key = need(endpoint, 'api_key');
    const token = base.hostname.endsWith('cloud.ibm.com') ? await auth.ibmIamToken(key) : key;
    const body: Record<string, unknown> = { model_id: need(endpoint, 'model_id') };
    const project = text(endpoint.service_settings, 'project_id');
    if (project) body.project_id = project;
    const chat = chatBody(input);
    delete chat.n;
    delete chat.stream;
    return {
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ ...body, ...chat }),
    };
  },
};
