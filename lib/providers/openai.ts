import { defineProvider } from './define.js';
import { bearerChatRequest, OpenAiChatNormalizer } from './dialects/openai-chat.js';

/** OpenAI chat completions: bearer key, `max_completion_tokens`, a final usage chunk, `data: [DONE]`. */
export const openai = defineProvider({
  id: 'openai',
  description: 'OpenAI chat completions SSE (data-only chunks, data: [DONE])',
  required: ['api_key'],
  request: (input) =>
    bearerChatRequest(input, { defaultUrl: 'https://api.openai.com/v1/chat/completions', usage: true, maxTokensAs: 'max_completion_tokens' }),
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'openai' }),
});
