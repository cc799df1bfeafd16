import { incompleteStream } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { isObject, noMessage, parseEventJson, providerStreamError, statusForErrorWord, str, type Json } from './common.js';
import { defineProvider } from './define.js';
import { isDone, openAiChunk, openAiStreamError } from './dialects/openai-chat.js';
import { isWatsonxGeneration, watsonxGenerationEvent } from './dialects/watsonx-generation.js';
import type { DeltaObject, EventNormalizer } from './types.js';

const ID = 'watsonxai';

/**
 * watsonx.ai `chat_stream` (OpenAI-like chunks, no `[DONE]`, a `choices: []` usage chunk
 * last) and `generation_stream` (`results[0].generated_text`), both framed as
 * `id:` / `event: message` / `data:`; each event says which by its own keys, and
 * `data: {}` carries nothing. Neither has a sentinel, so the end marker is the
 * generation's last `stop_reason` (anything but `not_finished`) or a chat finish_reason;
 * EOF before it is an incomplete stream.
 */
class WatsonxNormalizer implements EventNormalizer {
  private complete = false;

  frame(frame: Frame, out: DeltaObject[]): void {
    // Not sent by watsonx itself; an OpenAI-style gateway in front of it may add one.
    if (isDone(frame.data)) {
      this.complete = true;
      return;
    }
    const json = parseEventJson(frame);
    if (!isObject(json)) {
      // `event: error` is an error whatever its payload.
      if (frame.event === 'error') throw providerStreamError(ID, typeof json === 'string' ? json : noMessage(ID, frame.data));
      return;
    }
    if (Array.isArray(json.errors) || frame.event === 'error') throw watsonxError(json);
    if (isObject(json.error)) throw openAiStreamError(ID, json.error);
    if (isWatsonxGeneration(json)) {
      if (watsonxGenerationEvent(ID, json, out)) this.complete = true;
    } else if (openAiChunk(json, out) !== undefined) {
      this.complete = true;
    }
  }

  end(_out: DeltaObject[]): void {
    if (!this.complete) throw incompleteStream(`The [${ID}] stream ended before a finish_reason or final stop_reason`);
  }
}

/** `{"errors":[{"code","message","more_info"}],"trace","status_code"}` inside a 200 stream. */
function watsonxError(json: Json) {
  const first = Array.isArray(json.errors) && isObject(json.errors[0]) ? json.errors[0] : json;
  const message = str(first.message) ?? JSON.stringify(json);
  const status = typeof json.status_code === 'number' ? json.status_code : statusForErrorWord(first.code);
  return providerStreamError(ID, message, status);
}

export const watsonxai = defineProvider({
  id: ID,
  description: 'IBM watsonx.ai chat_stream (OpenAI-like chunks, no [DONE]) or generation_stream (results[0].generated_text) SSE',
  createNormalizer: () => new WatsonxNormalizer(),
});
