import { genericErrorMessage } from './common.js';
import type { Provider } from './types.js';

/** A provider as written in its module: `errorMessage` only for a body shape the generic reader does not know. */
export type ProviderDefinition<Id extends string> = Omit<Provider<Id>, 'errorMessage'> &
  Partial<Pick<Provider<Id>, 'errorMessage'>>;

/** A provider module's export: its definition with the generic error-body reader filled in. */
export function defineProvider<const Id extends string>(def: ProviderDefinition<Id>): Provider<Id> {
  return { ...def, errorMessage: def.errorMessage ?? genericErrorMessage };
}
