import type { Frame } from '../../framing/frame.js';
import { providerStreamError } from '../../errors.js';
import { pushFinish, pushReasoning, pushText, pushUsage, statusForErrorWord, str } from '../common.js';
import { isObject, type Json } from '../../json.js';
import type { ToolCalls } from '../tool-calls.js';
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
 * One ConverseStream event, by its `:event-type`: `messageStart` starts the message;
 * `contentBlockDelta` carries answer text (`delta.text`), reasoning
 * (`delta.reasoningContent.text`) or a tool call's input piece (`delta.toolUse.input`);
 * `contentBlockStart` with `start.toolUse` starts a tool call (`toolUseId`, `name`);
 * `messageStop` carries the stop reason and is the end marker; `metadata` carries usage.
 * Payloads also hold a random padding field `p`, never read. Returns true on `messageStop`.
 */
export function converseEvent(event: string, json: Json, out: DeltaObject[], tools: ToolCalls): boolean {
  switch (event) {
    case 'contentBlockDelta': {
      const delta = json.delta;
      if (!isObject(delta)) return false;
      pushText(out, delta.text);
      if (isObject(delta.reasoningContent)) pushReasoning(out, delta.reasoningContent.text);
      if (isObject(delta.toolUse) && typeof delta.toolUse.input === 'string')
        tools.args(out, blockKey(json.contentBlockIndex), delta.toolUse.input);
      return false;
    }
    case 'contentBlockStart': {
      const start = isObject(json.start) ? json.start : undefined;
      const toolUse = start !== undefined && isObject(start.toolUse) ? start.toolUse : undefined;
      if (toolUse !== undefined && typeof toolUse.name === 'string')
        tools.start(out, blockKey(json.contentBlockIndex), str(toolUse.toolUseId), toolUse.name);
      return false;
    }
    case 'contentBlockStop':
      tools.close(out, blockKey(json.contentBlockIndex));
      return false;
    case 'messageStart':
      out.push({ role: 'assistant' });
      return false;
    case 'messageStop':
      pushFinish(out, json.stopReason);
      return true;
    case 'metadata':
      pushUsage(out, json.usage);
      return false;
    default:
      return false; // unknown events
  }
}

function blockKey(index: unknown): number | string {
  return typeof index === 'number' ? index : String(index);
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
