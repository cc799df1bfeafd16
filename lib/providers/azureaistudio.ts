import { defineProvider } from './define.js';
import { OpenAiChatNormalizer } from './dialects/openai-chat.js';

/**
 * Azure AI Studio / Foundry: OpenAI-compatible chunks from the hosted model; some models
 * (DeepSeek) send explicit nulls (`"role":null,"content":null,"tool_calls":null`) and
 * `reasoning_content`.
 */
export const azureaistudio = defineProvider({
  id: 'azureaistudio',
  description: 'Azure AI Studio / Foundry chat completions SSE (OpenAI-compatible, reasoning_content, data: [DONE])',
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'azureaistudio' }),
});
