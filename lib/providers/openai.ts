import { defineProvider } from './define.js';
import { bearerChatRequest, OpenAiChatNormalizer } from './dialects/openai-chat.js';
import { chatVia } from './chat/target.js';
import { openAiChatBody } from './chat/openai.js';
import { openAiWords } from './failure.js';

/** OpenAI chat completions: bearer key, `max_completion_tokens`, a final usage chunk, `data: [DONE]`. */
export const openai = defineProvider({
  id: 'openai',
  description: 'OpenAI chat completions SSE (data-only chunks, data: [DONE])',
  required: ['api_key'],
  request: (input) =>
    bearerChatRequest(input, {
      defaultUrl: 'https://api.openai.com/v1/chat/completions',
      usage: true,
      maxTokensAs: 'max_completion_tokens',
    }),
  // the request passed through: developer role, max_completion_tokens, every tool choice, the usage chunk
  chat: (input, context) =>
    chatVia(
      (i) => bearerChatRequest(i, { defaultUrl: 'https://api.openai.com/v1/chat/completions' }),
      input,
      context,
      (t) =>
        openAiChatBody(input.request, t, {
          developerRole: true,
          maxTokensAs: 'max_completion_tokens',
          includeUsage: true,
        }),
    ),
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'openai' }),
  failureWords: openAiWords,
});
