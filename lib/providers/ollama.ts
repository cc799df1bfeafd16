import { incompleteStream, providerStreamError } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { parseEventJson, pushFinish, pushReasoning, pushText, pushUsage, str } from './common.js';
import { isObject } from '../json.js';
import { defineProvider } from './define.js';
import { ShapeCache } from './shape-cache.js';
import { mapSettings, modelOf, resolveUrl } from './settings.js';
import type { DeltaObject, EventNormalizer, ProviderRequest, RequestInput } from './types.js';
import { ToolCalls } from './tool-calls.js';
import { chatVia } from './chat/target.js';
import { ollamaChatBody } from './chat/ollama.js';

const ID = 'ollama';

/**
 * Ollama NDJSON: `/api/chat` lines carry `message.content` (and `message.thinking`),
 * `/api/generate` lines carry `response` (and `thinking`). The line with `done: true` ends
 * the stream with `done_reason` and token counts; `{"error":"…"}` is a mid-stream error.
 */
class OllamaNormalizer implements EventNormalizer {
  /** The `done: true` line was read: the rest of the body is not. */
  finished = false;
  private started = false;
  private readonly tools = new ToolCalls();
  /** /api/chat lines repeat their envelope but for the text and `created_at`, which is never read. */
  readonly envelopeCache = new ShapeCache('"content":', '"created_at":', false, ['"tool_calls"']);

  frame(frame: Frame, out: DeltaObject[]): void {
    if (this.envelopeCache.take(frame, out)) return;
    const before = out.length;
    this.full(frame, out);
    this.envelopeCache.observe(frame, out, before);
  }

  private full(frame: Frame, out: DeltaObject[]): void {
    const json = parseEventJson(frame);
    if (!isObject(json)) return;
    if (json.error !== undefined && json.error !== null) {
      throw providerStreamError(ID, str(json.error) ?? JSON.stringify(json.error));
    }
    if (!this.started) {
      this.started = true;
      out.push(
        typeof json.model === 'string' && json.model.length > 0
          ? { role: 'assistant', model: json.model }
          : { role: 'assistant' },
      );
    }
    const message = json.message;
    if (isObject(message)) {
      pushReasoning(out, message.thinking);
      pushText(out, message.content);
      // each call arrives whole, its arguments an object
      if (Array.isArray(message.tool_calls)) {
        for (const call of message.tool_calls) {
          const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
          if (fn === undefined || typeof fn.name !== 'string') continue;
          const args = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {});
          this.tools.whole(out, str((call as Record<string, unknown>).id), fn.name, args);
        }
      }
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

/** Ollama's native `/api/chat` (NDJSON answer); no key, local by default. */
function request(input: RequestInput): ProviderRequest {
  const { endpoint } = input;
  const options = mapSettings(input.taskSettings, {
    max_tokens: 'num_predict',
    temperature: 'temperature',
    top_p: 'top_p',
    top_k: 'top_k',
    stop: 'stop',
  });
  const body: Record<string, unknown> = {
    model: modelOf(endpoint),
    messages: [{ role: 'user', content: input.input }],
    stream: true,
  };
  if (Object.keys(options).length > 0) body.options = options;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/x-ndjson' };
  return { url: resolveUrl(endpoint, 'http://localhost:11434/api/chat'), headers, body: JSON.stringify(body) };
}

/** Ollama, local: no key. */
export const ollama = defineProvider({
  id: ID,
  description: 'Ollama NDJSON from /api/chat or /api/generate (ends with "done": true)',
  required: ['model_id'],
  request,
  chat: (input, context) => chatVia(request, input, context, (t) => ollamaChatBody(input.request, t)),
  createNormalizer: () => new OllamaNormalizer(),
});
