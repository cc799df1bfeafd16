import { unknownProvider } from '../errors.js';
import { anthropic } from './anthropic.js';
import { openai } from './openai.js';
import { cohere } from './cohere.js';
import { azureopenai } from './azureopenai.js';
import { azureaistudio } from './azureaistudio.js';
import { googleaistudio } from './googleaistudio.js';
import { mistral } from './mistral.js';
import { deepseek } from './deepseek.js';
import { googlevertexai } from './googlevertexai.js';
import { hugging_face } from './hugging_face.js';
import { amazonbedrock } from './amazonbedrock.js';
import { watsonxai } from './watsonxai.js';
import { ollama } from './ollama.js';
import { alibabacloud } from './alibabacloud.js';
import type { Provider } from './types.js';

/** Every provider, by Elasticsearch service name. Adding one is a file and a line here. */
const table: readonly Provider[] = [openai, anthropic, cohere, azureopenai, azureaistudio, googleaistudio, mistral, deepseek, googlevertexai, hugging_face, amazonbedrock, watsonxai, ollama, alibabacloud];

const byId = new Map<string, Provider>(table.map((p) => [p.id, p]));

export function providerIds(): string[] {
  return table.map((p) => p.id);
}

export function listProviders(): readonly Provider[] {
  return table;
}

export function getProvider(id: string | Provider): Provider {
  if (typeof id !== 'string') return id;
  const provider = byId.get(id);
  if (!provider) {
    throw unknownProvider(id, providerIds());
  }
  return provider;
}

export type { Provider, DeltaObject, EventNormalizer, TextDelta } from './types.js';
