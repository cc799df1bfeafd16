import { incompleteStream } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { isObject, parseEventJson, providerStreamError, pushFinish, pushReasoning, pushText, pushUsage, str } from './common.js';
import { defineProvider } from './define.js';
import type { DeltaObject, EventNormalizer } from './types.js';

const ID = 'ollama';

/**
 * Ollama NDJSON: `/api/chat` lines carry `message.content` (and `message.thinking`),
 * `/api/generate` lines carry `response` (and `thinking`). The line with `done: true` ends
 * the stream with `done_reason` and token counts; `{"error":"…"}` is a mid-stream error.
 */
class OllamaNormalizer implements EventNormalizer {
  /** The `done: true` line was read: the rest of the body is not. */
  finished = false;

  frame(frame: Frame, out: DeltaObject[]): void {
    const json = parseEventJson(frame);
    if (!isObject(json)) return;
    if (json.error !== undefined && json.error !== null) {
      throw providerStreamError(ID, str(json.error) ?? JSON.stringify(json.error));
    }
    const message = json.message;
    if (isObject(message)) {
      pushReasoning(out, message.thinking);
      pushText(out, message.content);
    } else {
      pushReasoning(out, json.thinking);
      pushText(out, json.response);
    }
    if (json.done === true) {
      this.finished = true;
      pushFinish(out, json.done_reason);
      const usage: Record<string, unknown> = {};
      if (typeof json.prompt_eval_count === 'number') usage.prompt_eval_count = json.prompt_eval_count;
      if (typeof json.eval_count === 'number') usage.eval_count = json.eval_count;
      if (usage.prompt_eval_count !== undefined || usage.eval_count !== undefined) pushUsage(out, usage);
    }
  }

  end(_out: DeltaObject[]): void {
    if (!this.finished) throw incompleteStream(`The [${ID}] stream ended before its "done": true line`);
  }
}

export const ollama = defineProvider({
  id: ID,
  description: 'Ollama NDJSON from /api/chat or /api/generate (ends with "done": true)',
  createNormalizer: () => new OllamaNormalizer(),
});
