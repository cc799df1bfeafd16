import { providerStreamError } from '../../errors.js';
import { pushFinish, pushText, str } from '../common.js';
import { isObject, type Json } from '../../json.js';
import type { DeltaObject } from '../types.js';

/** HTTP status TGI answers with for each `error_type` (router `From<InferError> for StatusCode`). */
const STATUS_BY_ERROR_TYPE: Record<string, number> = {
  generation: 424,
  overloaded: 429,
  validation: 422,
  incomplete_generation: 500,
  incomplete_generation_stream: 500,
  template_error: 422,
  missing_template_variable: 422,
  tool_error: 422,
  stream_serialization_error: 500,
};

/** A TGI `generate_stream` event: has `token` (every event) or `generated_text` (the last one). */
export function isTgiEvent(json: Json): boolean {
  return json.token !== undefined || json.generated_text !== undefined;
}

/**
 * Text of one TGI `generate_stream` event: `token.text` unless the token is special.
 * The last event also repeats the whole text in `generated_text` (not new text, skipped)
 * and has `details.finish_reason`. Returns true for that last event.
 */
export function tgiEvent(json: Json, out: DeltaObject[]): boolean {
  const token = json.token;
  if (isObject(token) && token.special !== true) pushText(out, token.text);
  const details = json.details;
  if (isObject(details)) {
    pushFinish(out, details.finish_reason);
    return true;
  }
  // Without `"details": true` in the request the last event has generated_text and null details.
  return typeof json.generated_text === 'string';
}

/** `{"error":"…","error_type":"…"}`, before or inside a TGI stream. */
export function tgiError(provider: string, json: Json) {
  const type = str(json.error_type);
  const status = (type !== undefined ? STATUS_BY_ERROR_TYPE[type] : undefined) ?? 500;
  return providerStreamError(provider, String(json.error), status);
}
