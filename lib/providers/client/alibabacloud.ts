import { chatBody } from './openai-compatible.js';
import { mapSettings, modelOf, need, resolveUrl } from './settings.js';
import type { ProviderRequest, ServiceDefinition } from './types.js';

/**
 * Alibaba Cloud Model Studio (DashScope), native protocol with incremental output; a `url`
 * ending in `/chat/completions` (compatible mode) gets OpenAI's body instead.
 */
export const alibabaCloud: ServiceDefinition = {
  id: 'alibabacloud',
  required: ['api_key', 'model_id'],
  build(input): ProviderRequest {
    const { endpoint } = input;
    const url = resolveUrl(endpoint, 'https://dashscope-intl.aliyuncs.com/api/v1/services/aigc/text-generation/generation');
    const model = modelOf(endpoint);
    const headers = {
      authorization: `Bearer ${need(endpoint, 'api_key')}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'x-dashscope-sse': 'enable',
    };
    if (new URL(url).pathname.endsWith('/chat/completions')) {
      return { url, headers, body: JSON.stringify(chatBody(input, { model, usage: true })) };
    }
    const parameters = mapSettings(input.taskSettings, { max_tokens: 'max_tokens', temperature: 'temperature', top_p: 'top_p', top_k: 'top_k' });
    parameters.result_format = 'message';
    parameters.incremental_output = true;
    return {
      url,
      headers,
      body: JSON.stringify({ model, input: { messages: [{ role: 'user', content: input.input }] }, parameters }),
    };
  },
};
