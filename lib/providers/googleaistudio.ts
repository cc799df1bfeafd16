import { defineProvider } from './define.js';
import { geminiBody, GeminiNormalizer } from './dialects/gemini.js';
import { modelOf, need, resolveUrl } from './settings.js';
import type { ProviderRequest, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { geminiChatBody } from './chat/gemini.js';
import { googleWords } from './failure.js';

/** The key in `x-goog-api-key` (kept out of the URL, unlike Elasticsearch's `?key=`), `alt=sse`. */
function request(input: RequestInput): ProviderRequest {
  const { endpoint } = input;
  const model = encodeURIComponent(modelOf(endpoint) ?? '');
  return {
    url: resolveUrl(
      endpoint,
      `https://generativelanguage.googleapis.com/v1beta/models/${model}:streamGenerateContent?alt=sse`,
    ),
    headers: {
      'x-goog-api-key': need(endpoint, 'api_key'),
      'content-type': 'application/json',
      accept: 'text/event-stream',
    },
    body: geminiBody(input),
  };
}

/** Google AI Studio (Gemini API). */
export const googleaistudio = defineProvider({
  id: 'googleaistudio',
  description: 'Gemini API streamGenerateContent: SSE (alt=sse, CRLF, ends at EOF) or a streamed JSON array',
  required: ['api_key', 'model_id'],
  request,
  chat: (input, context) => chatVia(request, input, context, (t) => geminiChatBody(input.request, t)),
  createNormalizer: () => new GeminiNormalizer('googleaistudio'),
  failureWords: googleWords('Google AI Studio'),
  rawJson: true,
});
