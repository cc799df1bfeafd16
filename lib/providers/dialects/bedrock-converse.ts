import type { Frame } from '../../framing/frame.js';
import { isObject, providerStreamError, pushFinish, pushReasoning, pushText, pushUsage, statusForErrorWord, str, type Json } from '../common.js';
import type { DeltaObject } from '../types.js';

/** Bedrock runtime exception names (lower-cased: the wire spells them either way) and their HTTP status. */
const EXCEPTION_STATUS = new Map<string, number>([
  ['throttlingexception', 429],
  ['internalserverexception', 500],
  ['modelstreamerrorexception', 424],
  ['validationexception', 400],
  ['serviceunavailableexception', 503],
  ['modeltimeoutexception', 408],
  ['accessdeniedexception', 403],
  ['resourcenotfoundexception', 404],
]);

/**
 * One ConverseStream event, by its `:event-type`: `contentBlockDelta` carries answer text
 * (`delta.text`) or reasoning (`delta.reasoningContent.text`; tool input is neither),
 * `messageStop` carries the stop reason and is the end marker, `metadata` carries usage.
 * Payloads also hold a random padding field `p`, never read. Returns true on `messageStop`.
 */
export function converseEvent(event: string, json: Json, out: DeltaObject[]): boolean {
  switch (event) {
    case 'contentBlockDelta': {
      const delta = json.delta;
      if (!isObject(delta)) return false;
      pushText(out, delta.text);
      if (isObject(delta.reasoningContent)) pushReasoning(out, delta.reasoningContent.text);
      return false;
    }
    case 'messageStop':
      pushFinish(out, json.stopReason);
      return true;
    case 'metadata':
      pushUsage(out, json.usage);
      return false;
    default:
      return false; // messageStart, contentBlockStart, contentBlockStop, unknown events
  }
}

/** An exception frame (`:message-type: exception`): payload `{"message": …}`, status from the exception name. */
export function bedrockException(provider: string, frame: Frame) {
  let message: string | undefined;
  try {
    const json: unknown = JSON.parse(frame.data);
    if (isObject(json)) message = str(json.message) ?? str(json.Message);
  } catch {
    message = frame.data.trim() || undefined;
  }
  const name = frame.event || 'exception';
  const status = EXCEPTION_STATUS.get(name.toLowerCase()) ?? statusForErrorWord(name);
  return providerStreamError(provider, message ?? name, status);
}
