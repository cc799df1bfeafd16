import { genericErrorMessage } from './common.js';
import type { EventNormalizer, Provider } from './types.js';

export interface ProviderDefinition {
  id: string;
  description: string;
  createNormalizer(): EventNormalizer;
  /** The provider writes bare JSON into its SSE streams (Vertex AI's mid-stream error). */
  rawJson?: boolean;
  /** Only for a body shape the generic reader does not know. */
  errorMessage?(body: unknown): string | undefined;
}

export function defineProvider(def: ProviderDefinition): Provider {
  return {
    id: def.id,
    description: def.description,
    createNormalizer: def.createNormalizer,
    ...(def.rawJson ? { rawJson: true } : {}),
    errorMessage: def.errorMessage ?? genericErrorMessage,
  };
}
