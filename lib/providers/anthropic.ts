import { defineProvider } from './define.js';
import { AnthropicMessagesNormalizer } from './dialects/anthropic-messages.js';

export const anthropic = defineProvider({
  id: 'anthropic',
  description: 'Anthropic Messages SSE (named events, message_stop)',
  createNormalizer: () => new AnthropicMessagesNormalizer('anthropic'),
});
