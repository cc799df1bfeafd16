import { defineProvider } from './define.js';
import { OpenAiChatNormalizer } from './dialects/openai-chat.js';

export const openai = defineProvider({
  id: 'openai',
  description: 'OpenAI chat completions SSE (data-only chunks, data: [DONE])',
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'openai' }),
});
