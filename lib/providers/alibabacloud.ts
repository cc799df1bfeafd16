import { incompleteStream, providerStreamError } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { noMessage, parseEventJson, str } from './common.js';
import { isObject, type Json } from '../json.js';
import { defineProvider } from './define.js';
import { DashScopeNativeReader, dashScopeError, dashScopeStatus, isDashScopeError } from './dialects/dashscope.js';
import { chatBody, isDone, openAiChunk, OpenAiChatState } from './dialects/openai-chat.js';
import { mapSettings, modelOf, need, resolveUrl } from './settings.js';
import type { DeltaObject, EventNormalizer, ProviderRequest, ReaderOptions, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { openAiChatBody } from './chat/openai.js';
import { dashscopeChatBody } from './chat/dashscope.js';
import type { StoredEndpoint } from '../registry/types.js';

const ID = 'alibabacloud';

/**
 * Alibaba Cloud Model Studio (DashScope): native SSE (`output.choices` or `output.text`,
 * incremental or cumulative, ends at a finish_reason other than "null") or compatible mode
 * (OpenAI chunks, ends at `[DONE]`); each event says which by its own keys. Errors arrive as
 * `event:error` with `{"code","message","request_id"}`, possibly in an HTTP 200 stream.
 */
class AlibabaCloudNormalizer implements EventNormalizer {
  private readonly state = new OpenAiChatState();
  private readonly native: DashScopeNativeReader;

  constructor(options: ReaderOptions = {}) {
    this.native = new DashScopeNativeReader(options.incremental);
  }
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
      if (frame.event === 'error')
        throw providerStreamError(ID, typeof json === 'string' ? json : noMessage(ID, frame.data));
      return;
    }
    if (isObject(json.error)) throw compatError(json.error);
    if (frame.event === 'error' || isDashScopeError(json)) throw dashScopeError(ID, json);
    const output = json.output;
    if (isObject(output)) {
      if (this.native.read(json, output, out)) this.finished = true;
    } else {
      openAiChunk(json, out, this.state);
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

/**
 * The native protocol with incremental output; a `url` ending in `/chat/completions`
 * (compatible mode) gets OpenAI's body instead.
 */
function isCompatibleMode(endpoint: StoredEndpoint): boolean {
  return new URL(resolveUrl(endpoint, NATIVE_URL)).pathname.endsWith('/chat/completions');
}
const NATIVE_URL = 'https://dashscope-intl.aliyuncs.com/api/v1/services/aigc/text-generation/generation';

function request(input: RequestInput): ProviderRequest {
  const { endpoint } = input;
  const url = resolveUrl(endpoint, NATIVE_URL);
  const model = modelOf(endpoint);
  const headers = {
    authorization: `Bearer ${need(endpoint, 'api_key')}`,
    'content-type': 'application/json',
    accept: 'text/event-stream',
    'x-dashscope-sse': 'enable',
  };
  if (new URL(url).pathname.endsWith('/chat/completions')) {
    return { url, headers, body: JSON.stringify(chatBody(input, { model, usage: true })) };
  }
  const parameters = mapSettings(input.taskSettings, {
    max_tokens: 'max_tokens',
    temperature: 'temperature',
    top_p: 'top_p',
    top_k: 'top_k',
  });
  parameters.result_format = 'message';
  parameters.incremental_output = true;
  return {
    url,
    headers,
    body: JSON.stringify({ model, input: { messages: [{ role: 'user', content: input.input }] }, parameters }),
    // the reader follows what was asked instead of guessing from the text
    readerOptions: { incremental: true },
  };
}

/** Alibaba Cloud Model Studio (DashScope): bearer key. */
export const alibabacloud = defineProvider({
  id: ID,
  description:
    'Alibaba Cloud DashScope SSE (native output.choices / output.text, incremental or cumulative) or compatible mode (data: [DONE])',
  required: ['api_key', 'model_id'],
  request,
  // the url says which protocol, as for completion
  chat: (input, context) =>
    chatVia(request, input, context, (t, endpoint) =>
      isCompatibleMode(endpoint)
        ? openAiChatBody(input.request, t, { includeUsage: true })
        : dashscopeChatBody(input.request, t),
    ),
  createNormalizer: (options) => new AlibabaCloudNormalizer(options),
});
