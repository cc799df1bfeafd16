import { providerStreamError } from '../../errors.js';
import { pushFinish, pushText, pushUsage } from '../common.js';
import { isObject, type Json } from '../../json.js';
import type { DeltaObject } from '../types.js';

/** A watsonx.ai text generation event: `{"model_id","results":[{generated_text,stop_reason,…}]}`. */
export function isWatsonxGeneration(json: Json): boolean {
  return Array.isArray(json.results);
}

/**
 * Delta objects of one `generation_stream` event. `generated_text` is new text (a delta);
 * `stop_reason` is `not_finished` until the last event. Returns true for the last event;
 * throws for `stop_reason: "error"`.
 */
export function watsonxGenerationEvent(provider: string, json: Json, out: DeltaObject[]): boolean {
  const result = (json.results as unknown[])[0];
  if (!isObject(result)) return false;
  pushText(out, result.generated_text);
  const stop = result.stop_reason;
  if (typeof stop !== 'string' || stop === 'not_finished' || stop.length === 0) return false;
  if (stop === 'error') throw providerStreamError(provider, 'generation stopped with stop_reason [error]');
  pushFinish(out, stop);
  if (result.generated_token_count !== undefined || result.input_token_count !== undefined) {
    pushUsage(out, {
      input_token_count: result.input_token_count,
      generated_token_count: result.generated_token_count,
    });
  }
  return true;
}
