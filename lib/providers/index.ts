import { unknownProvider } from '../errors.js';
import { alibabacloud } from './alibabacloud.js';
import { amazonbedrock } from './amazonbedrock.js';
import { anthropic } from './anthropic.js';
import { azureaistudio } from './azureaistudio.js';
import { azureopenai } from './azureopenai.js';
import { cohere } from './cohere.js';
import { deepseek } from './deepseek.js';
import { googleaistudio } from './googleaistudio.js';
import { googlevertexai } from './googlevertexai.js';
import { hugging_face } from './hugging_face.js';
import { mistral } from './mistral.js';
import { ollama } from './ollama.js';
import { openai } from './openai.js';
import type { Provider, ResponseReader } from './types.js';
import { watsonxai } from './watsonxai.js';

/**
 * The one table of providers: Elasticsearch's 14 service ids, each the module of that
 * name. Adding a provider is a module and a line here; the key must equal the module's id.
 */
const table = {
  openai,
  azureopenai,
  azureaistudio,
  anthropic,
  cohere,
  googleaistudio,
  googlevertexai,
  watsonxai,
  hugging_face,
  amazonbedrock,
  mistral,
  deepseek,
  alibabacloud,
  ollama,
} as const;

/** One of Elasticsearch's service ids this library speaks: `'openai'`, `'amazonbedrock'`, … */
export type ProviderId = keyof typeof table;

// Compile-time check that every key names its own module.
table satisfies { readonly [Id in ProviderId]: Provider<Id> };

const ids = Object.freeze(Object.keys(table) as ProviderId[]);

/** The provider ids, in Elasticsearch's order. */
export function providerIds(): readonly ProviderId[] {
  return ids;
}

/** Every provider, in the order of {@link providerIds}. */
export function listProviders(): readonly Provider<ProviderId>[] {
  return ids.map((id) => table[id]);
}

/** Whether a value (e.g. an endpoint's `service`) is a known provider id. */
export function isProviderId(id: unknown): id is ProviderId {
  return typeof id === 'string' && Object.hasOwn(table, id);
}

/**
 * The provider of an id. Throws `illegal_argument_exception` naming the known ids for any
 * other value (an untyped caller may pass anything).
 */
export function getProvider(id: ProviderId): Provider<ProviderId> {
  if (!isProviderId(id)) throw unknownProvider(id, ids);
  return table[id];
}

/**
 * What the decoding stages read with: a provider by id, or a custom reader object as is.
 * Throws for an unknown id, so every stage fails the same way at construction.
 */
export function resolveReader(provider: ProviderId | ResponseReader): ResponseReader {
  if (typeof provider === 'object' && provider !== null && typeof provider.createNormalizer === 'function')
    return provider;
  return getProvider(provider as ProviderId);
}
