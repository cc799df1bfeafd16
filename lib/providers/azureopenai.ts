import { defineProvider } from './define.js';
import { OpenAiChatNormalizer } from './dialects/openai-chat.js';

/**
 * Azure OpenAI: OpenAI chunks plus content-filter annotations, which carry no text:
 * a first `prompt_filter_results` chunk with `choices: []`, and (asynchronous filter)
 * choices with `content_filter_offsets` and no `delta`, even after the finish_reason.
 * A filtered completion ends with `finish_reason: "content_filter"`.
 */
export const azureopenai = defineProvider({
  id: 'azureopenai',
  description: 'Azure OpenAI chat completions SSE (OpenAI chunks + content filter annotations, data: [DONE])',
  createNormalizer: () => new OpenAiChatNormalizer({ provider: 'azureopenai' }),
});
