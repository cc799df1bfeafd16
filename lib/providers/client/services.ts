import { alibabaCloud } from './alibabacloud.js';
import { anthropic } from './anthropic.js';
import { amazonBedrock } from './bedrock.js';
import { cohere } from './cohere.js';
import { googleAiStudio, googleVertexAi } from './google.js';
import { ollama } from './ollama.js';
import { azureAiStudio, azureOpenAi, deepseek, huggingFace, mistral, openai } from './openai-compatible.js';
import type { ServiceDefinition } from './types.js';
import { watsonx } from './watsonx.js';

/** Every service the client can call, by Elasticsearch service name (also the parser id). */
export const services: readonly ServiceDefinition[] = [
  openai,
  azureOpenAi,
  azureAiStudio,
  anthropic,
  cohere,
  googleAiStudio,
  googleVertexAi,
  watsonx,
  huggingFace,
  amazonBedrock,
  mistral,
  deepseek,
  alibabaCloud,
  ollama,
];

const byId = new Map(services.map((s) => [s.id, s]));

export function getService(id: string): ServiceDefinition | undefined {
  return byId.get(id);
}

export function serviceIds(): string[] {
  return services.map((s) => s.id);
}
