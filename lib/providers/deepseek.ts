import { defineProvider } from './define.js';
import { bearerChatRequest, OpenAiChatNormalizer } from './dialects/openai-chat.js';
import { chatVia } from './chat/target.js';
import { openAiChatBody } from './chat/openai.js';
import { openAiWords } from './failure.js';

/** DeepSeek: OpenAI-like chunks, `reasoning_content` before `content`, `: keep-alive` comments while queued. */
export const deepseek = defineProvider({
  id: 'deepseek',
  description: 'DeepSeek chat completions SSE (reasoning_content, keep-alive comments, data: [DONE])',
  required: ['api_key'],
  request: (input) =>
    bearerChatRequest(input, { defaultUrl: 'https://api.deepseek.com/chat/completions', usage: true }),
  chat: (input, context) =>
    chatVia(
      (i) => bearerChatRequest(i, { defaultUrl: 'https://api.deepseek.com/chat/completions' }),
      input,
      context,
      (t) => openAiChatBody(input.request, t, { includeUsage: true }),
    ),
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'deepseek' }),
  failureWords: openAiWords,
});
