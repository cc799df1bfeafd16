import { incompleteStream } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { isObject, JsonLines, parseEventJsonLines } from './common.js';
import { defineProvider } from './define.js';
import { anthropicError, anthropicEvent } from './dialects/anthropic-messages.js';
import { GeminiStream, geminiError } from './dialects/gemini.js';
import type { DeltaObject, EventNormalizer } from './types.js';

const ID = 'googlevertexai';

/**
 * Vertex AI serves Gemini chunks (`streamGenerateContent`, no end marker) and, for Model
 * Garden Anthropic models (`streamRawPredict`), Anthropic Messages events (`message_stop`
 * ends them). The first event decides which one this stream is: Anthropic events carry a
 * `type`, Gemini chunks do not.
 */
class VertexNormalizer implements EventNormalizer {
  private shape: 'gemini' | 'anthropic' | undefined;
  private readonly gemini = new GeminiStream(ID);
  private readonly anthropic = { done: false };

  frame(frame: Frame, out: DeltaObject[]): void {
    const json = parseEventJsonLines(frame);
    if (json instanceof JsonLines) {
      for (const value of json.values) this.value(frame, value, out);
      return;
    }
    this.value(frame, json, out);
  }

  private value(frame: Frame, json: unknown, out: DeltaObject[]): void {
    if (frame.event === 'error' && !isObject(json)) throw anthropicError(ID, json, frame.data); // whatever its payload
    this.shape ??= shapeOf(json);
    if (this.shape === 'gemini') {
      this.gemini.value(json, out);
    } else if (this.shape === 'anthropic' && isObject(json)) {
      // Vertex's own errors keep Google's shape (raw JSON, no `type`) whatever the model.
      if (json.type === undefined && isObject(json.error)) throw geminiError(ID, json.error);
      anthropicEvent(ID, json, frame.event, out, this.anthropic);
    }
  }

  end(out: DeltaObject[], truncated?: boolean): void {
    if (this.shape === 'anthropic') {
      if (!this.anthropic.done) throw incompleteStream(`The [${ID}] stream ended before its message_stop event`);
      return;
    }
    this.gemini.end(out, truncated);
  }
}

function shapeOf(json: unknown): 'gemini' | 'anthropic' | undefined {
  if (Array.isArray(json)) return 'gemini';
  if (!isObject(json)) return undefined;
  if (typeof json.type === 'string') return 'anthropic';
  if (json.candidates !== undefined || json.usageMetadata !== undefined || json.promptFeedback !== undefined || json.error !== undefined) {
    return 'gemini';
  }
  return undefined;
}

export const googlevertexai = defineProvider({
  id: ID,
  description: 'Vertex AI: Gemini streamGenerateContent SSE (raw JSON errors, ends at EOF) or Anthropic Messages SSE (streamRawPredict)',
  createNormalizer: () => new VertexNormalizer(),
  rawJson: true,
});
