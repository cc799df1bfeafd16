import { defineProvider } from './define.js';
import { OpenAiChatNormalizer } from './dialects/openai-chat.js';

/**
 * Mistral: OpenAI-like chunks; `delta.content` is a string or (magistral) an array of
 * `text` / `thinking` parts; the last chunk carries finish_reason and usage together.
 * Mistral's finish_reason `error` means generation failed.
 */
export const mistral = defineProvider({
  id: 'mistral',
  description: 'Mistral chat completions SSE (content string or text/thinking parts, data: [DONE])',
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'mistral', errorFinishReason: 'error' }),
});
