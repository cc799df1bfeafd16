import { incompleteStream } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { parseEventJson } from './common.js';
import { isObject } from '../json.js';
import { defineProvider } from './define.js';
import { bearerChatRequest, isDone, openAiChunk, openAiStreamError, OpenAiChatState } from './dialects/openai-chat.js';
import { isTgiEvent, tgiError, tgiEvent } from './dialects/tgi.js';
import type { DeltaObject, EventNormalizer } from './types.js';
import { chatVia } from './chat/target.js';
import { openAiChatBody } from './chat/openai.js';
import { huggingFaceWords } from './failure.js';

const ID = 'hugging_face';

/**
 * Hugging Face endpoints speak TGI's native `generate_stream` or the OpenAI-compatible
 * chat stream; each event says which by its own keys. The stream is complete after
 * TGI's final event (the one with `details` / `generated_text`) or chat's `[DONE]`.
 */
class HuggingFaceNormalizer implements EventNormalizer {
  private readonly state = new OpenAiChatState();
  /** TGI's final event or chat's `[DONE]` was read: the rest of the body is not. */
  finished = false;

  frame(frame: Frame, out: DeltaObject[]): void {
    if (isDone(frame.data)) {
      this.finished = true;
      return;
    }
    const json = parseEventJson(frame);
    if (!isObject(json)) return;
    const error = json.error;
    if (error !== undefined && error !== null) {
      // TGI: a string with error_type; chat: {"message","http_status_code"}.
      throw isObject(error) ? openAiStreamError(ID, error) : tgiError(ID, json);
    }
    if (isTgiEvent(json)) {
      if (tgiEvent(json, out)) this.finished = true;
    } else {
      openAiChunk(json, out, this.state);
    }
  }

  end(_out: DeltaObject[]): void {
    if (!this.finished) throw incompleteStream(`The [${ID}] stream ended before its final event`);
  }
}

/** Hugging Face: the url is required (an Inference Endpoint or the router); OpenAI's chat request with a bearer key. */
export const hugging_face = defineProvider({
  id: ID,
  description:
    'Hugging Face TGI generate_stream (token.text, final details) or OpenAI-compatible chat SSE (data:[DONE])',
  required: ['api_key', 'url'],
  request: (input) => bearerChatRequest(input, { defaultUrl: 'https://router.huggingface.co/v1/chat/completions' }),
  // TGI's Messages API: `max_tokens`, `stream_options.include_usage`
  chat: (input, context) =>
    chatVia(
      (i) => bearerChatRequest(i, { defaultUrl: 'https://router.huggingface.co/v1/chat/completions' }),
      input,
      context,
      (t) => openAiChatBody(input.request, t, { includeUsage: true }),
    ),
  createNormalizer: () => new HuggingFaceNormalizer(),
  failureWords: huggingFaceWords,
});
