import { defineProvider } from './define.js';
import { CohereNormalizer } from './dialects/cohere.js';

export const cohere = defineProvider({
  id: 'cohere',
  description: 'Cohere chat: v1 NDJSON (event_type, stream-end) and v2 SSE or JSON lines (content-delta, message-end)',
  createNormalizer: () => new CohereNormalizer('cohere'),
});
