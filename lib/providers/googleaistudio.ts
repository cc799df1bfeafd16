import { defineProvider } from './define.js';
import { GeminiNormalizer } from './dialects/gemini.js';

export const googleaistudio = defineProvider({
  id: 'googleaistudio',
  description: 'Gemini API streamGenerateContent: SSE (alt=sse, CRLF, ends at EOF) or a streamed JSON array',
  createNormalizer: () => new GeminiNormalizer('googleaistudio'),
  rawJson: true,
});
