import { incompleteStream, providerStreamError } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { parseEventJson, str } from './common.js';
import { isObject, type Json } from '../json.js';
import { defineProvider } from './define.js';
import { DashScopeNativeReader, dashScopeError, dashScopeStatus, isDashScopeError } from './dialects/dashscope.js';
import { OpenAiChatState, isDone, openAiChunk } from './dialects/openai-chat.js';
import type { DeltaObject, EventNormalizer } from './types.js';

const ID = 'alibabacloud';

/**
 * Alibaba Cloud Model Studio (DashScope): native SSE (`output.choices` or `output.text`,
 * incremental or cumulative, ends at a finish_reason other than "null") or compatible mode
 * (OpenAI chunks, ends at `[DONE]`); each event says which by its own keys. Errors arrive as
 * `event:error` with `{"code","message","request_id"}`, possibly in an HTTP 200 stream.
 */
class AlibabaCloudNormalizer implements EventNormalizer {
  private readonly state = new OpenAiChatState();
  private readonly native = new DashScopeNativeReader();
  private ended = false;

  frame(frame: Frame, out: DeltaObject[]): void {
    if (isDone(frame.data)) {
      this.ended = true;
      return;
    }
    const json = parseEventJson(frame);
    if (!isObject(json)) return;
    if (isObject(json.error)) throw compatError(json.error);
    if (frame.event === 'error' || isDashScopeError(json)) throw dashScopeError(ID, json);
    const output = json.output;
    if (isObject(output)) {
      if (this.native.read(json, output, out)) this.ended = true;
    } else {
      openAiChunk(json, out, this.state);
    }
  }

  end(_out: DeltaObject[]): void {
    if (!this.ended) throw incompleteStream(`The [${ID}] stream ended before its final event`);
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
