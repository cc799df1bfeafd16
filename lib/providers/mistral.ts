import { defineProvider } from './define.js';
import { bearerChatRequest, OpenAiChatNormalizer } from './dialects/openai-chat.js';
import { chatVia } from './chat/target.js';
import { openAiChatBody } from './chat/openai.js';
import { azureMistralWords } from './failure.js';

/**
 * Mistral: OpenAI-like chunks; `delta.content` is a string or (magistral) an array of
 * `text` / `thinking` parts; the last chunk carries finish_reason and usage together.
 * Mistral's finish_reason `error` means generation failed.
 */
export const mistral = defineProvider({
  id: 'mistral',
  description: 'Mistral chat completions SSE (content string or text/thinking parts, data: [DONE])',
  required: ['api_key'],
  request: (input) => bearerChatRequest(input, { defaultUrl: 'https://api.mistral.ai/v1/chat/completions' }),
  // usage comes with the last chunk unasked; `max_tokens`
  chat: (input, context) =>
    chatVia(
      (i) => bearerChatRequest(i, { defaultUrl: 'https://api.mistral.ai/v1/chat/completions' }),
      input,
      context,
      (t) => openAiChatBody(input.request, t),
    ),
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'mistral', errorFinishReason: 'error' }),
  failureWords: azureMistralWords,
});
