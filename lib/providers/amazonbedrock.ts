import { incompleteStream, malformedEvent } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { describe, parseEventJson } from './common.js';
import { isObject } from '../json.js';
import { defineProvider } from './define.js';
import { AnthropicState, anthropicEvent } from './dialects/anthropic-messages.js';
import { bedrockException, converseEvent } from './dialects/bedrock-converse.js';
import { ShapeCache } from './shape-cache.js';
import { ToolCalls } from './tool-calls.js';
import type { DeltaObject, EventNormalizer } from './types.js';

const ID = 'amazonbedrock';

/**
 * Bedrock runtime event streams (binary AWS frames), told apart by their event names:
 * ConverseStream (`messageStart` … `messageStop`, `metadata`) or InvokeModelWithResponseStream
 * (`chunk` frames whose `bytes` are base64 of the model's own event JSON; read as Anthropic
 * Messages events, ended by `message_stop`). Exception frames are errors in either.
 */
class BedrockNormalizer implements EventNormalizer {
  private invoke = false;
  private converseDone = false;
  private readonly anthropic = new AnthropicState();
  private readonly tools = new ToolCalls();
  /** contentBlockDelta payloads repeat their envelope but for the text and the random padding `p`. */
  private readonly shape = new ShapeCache('"text":', '"p":');

  frame(frame: Frame, out: DeltaObject[]): void {
    if (frame.exception) throw bedrockException(ID, frame);
    if (this.shape.take(frame, out)) return;
    const json = parseEventJson(frame);
    if (!isObject(json)) return;
    if (frame.event === 'chunk') {
      this.invoke = true;
      if (typeof json.bytes !== 'string') return;
      const inner = decodeChunk(json.bytes);
      if (isObject(inner)) anthropicEvent(ID, inner, '', out, this.anthropic);
      return;
    }
    const before = out.length;
    if (converseEvent(frame.event, json, out, this.tools)) this.converseDone = true;
    else this.shape.observe(frame, out, before);
  }

  end(_out: DeltaObject[]): void {
    if (this.invoke ? !this.anthropic.done : !this.converseDone) {
      throw incompleteStream(`The [${ID}] stream ended before its ${this.invoke ? 'message_stop' : 'messageStop'} event`);
    }
  }
}

function decodeChunk(base64: string): unknown {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw malformedEvent(`chunk bytes ${describe(text)}`, err);
  }
}

export const amazonbedrock = defineProvider({
  id: ID,
  description: 'Amazon Bedrock AWS event stream: ConverseStream, or InvokeModelWithResponseStream chunks of Anthropic events',
  createNormalizer: () => new BedrockNormalizer(),
});
