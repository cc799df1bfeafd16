import { defineProvider } from './define.js';
import { bearerChatRequest, OpenAiChatNormalizer } from './dialects/openai-chat.js';

/** DeepSeek: OpenAI-like chunks, `reasoning_content` before `content`, `: keep-alive` comments while queued. */
export const deepseek = defineProvider({
  id: 'deepseek',
  description: 'DeepSeek chat completions SSE (reasoning_content, keep-alive comments, data: [DONE])',
  required: ['api_key'],
  request: (input) => bearerChatRequest(input, { defaultUrl: 'https://api.deepseek.com/chat/completions', usage: true }),
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'deepseek' }),
});
