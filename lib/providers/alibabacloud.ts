import { incompleteStream } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { isObject, noMessage, parseEventJson, providerStreamError, str, type Json } from './common.js';
import { defineProvider } from './define.js';
import { DashScopeNativeReader, dashScopeError, dashScopeStatus, isDashScopeError } from './dialects/dashscope.js';
import { isDone, openAiChunk } from './dialects/openai-chat.js';
import type { DeltaObject, EventNormalizer } from './types.js';

const ID = 'alibabacloud';

/**
 * Alibaba Cloud Model Studio (DashScope): native SSE (`output.choices` or `output.text`,
 * incremental or cumulative, ends at a finish_reason other than "null") or compatible mode
 * (OpenAI chunks, ends at `[DONE]`); each event says which by its own keys. Errors arrive as
 * `event:error` with `{"code","message","request_id"}`, possibly in an HTTP 200 stream.
 */
class AlibabaCloudNormalizer implements EventNormalizer {
  private readonly native = new DashScopeNativeReader();
  /** The final event or `[DONE]` was read: the rest of the body is not. */
  finished = false;

  frame(frame: Frame, out: DeltaObject[]): void {
    if (isDone(frame.data)) {
      this.finished = true;
      return;
    }
    const json = parseEventJson(frame);
    if (!isObject(json)) {
      // `event:error` is an error whatever its payload.
      if (frame.event === 'error') throw providerStreamError(ID, typeof json === 'string' ? json : noMessage(ID, frame.data));
      return;
    }
    if (isObject(json.error)) throw compatError(json.error);
    if (frame.event === 'error' || isDashScopeError(json)) throw dashScopeError(ID, json);
    const output = json.output;
    if (isObject(output)) {
      if (this.native.read(json, output, out)) this.finished = true;
    } else {
      openAiChunk(json, out);
    }
  }

  end(_out: DeltaObject[]): void {
    if (!this.finished) throw incompleteStream(`The [${ID}] stream ended before its final event`);
  }
}

/** Compatible mode: `{"error":{"code":"data_inspection_failed","message","type"}}`, DashScope's codes in snake case. */
function compatError(error: Json) {
  const code = str(error.code) ?? str(error.type);
  return providerStreamError(ID, str(error.message) ?? JSON.stringify(error), dashScopeStatus(code));
}

export const alibabacloud = defineProvider({
  id: ID,
  description: 'Alibaba Cloud DashScope SSE (native output.choices / output.text, incremental or cumulative) or compatible mode (data: [DONE])',
  createNormalizer: () => new AlibabaCloudNormalizer(),
});
