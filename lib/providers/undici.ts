import { createRequire } from 'node:module';

let loaded: typeof import('undici') | null = null;

/**
 * undici, loaded when the first provider client is made or the first token is fetched:
 * code that only decodes streams (completionStream, the stages) never pays for it.
 * Synchronous, as the shared Agent is made in constructors.
 */
export function undici(): typeof import('undici') {
  loaded ??= createRequire(import.meta.url)('undici') as typeof import('undici');
  return loaded;
}
