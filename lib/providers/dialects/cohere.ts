import { incompleteStream, providerStreamError } from '../../errors.js';
import type { Frame } from '../../framing/frame.js';
import { parseEventJson, pushFinish, pushReasoning, pushText, pushUsage, str } from '../common.js';
import { isObject, type Json } from '../../json.js';
import { ShapeCache } from '../shape-cache.js';
import { ToolCalls } from '../tool-calls.js';
import type { DeltaObject, EventNormalizer } from '../types.js';

/** v1 `stream-end` finish reasons that are failures, with the status Elasticsearch gives them. */
const V1_ERROR_STATUS = new Map<string, number>([
  ['ERROR', 500],
  ['ERROR_TOXIC', 500],
  ['ERROR_LIMIT', 429],
]);

/**
 * Cohere chat streams, both API versions, told apart per object:
 * - v1 (`/v1/chat`, NDJSON or SSE): objects with `event_type`; `text-generation.text` is the
 *   answer, `stream-end` ends it (its `response.text` repeats the whole answer: not re-emitted).
 * - v2 (`/v2/chat`, SSE or bare JSON lines): objects with `type`; `content-delta` carries
 *   `delta.message.content.text` (answer) or `.thinking` (reasoning), `message-end` ends it.
 */
export class CohereNormalizer implements EventNormalizer {
  /** `stream-end` (v1) or `message-end` (v2) was read: the rest of the body is not. */
  finished = false;
  private readonly tools = new ToolCalls();
  /** text-generation (v1) and content-delta (v2) objects repeat their envelope but for the text. */
  readonly envelopeCache = new ShapeCache('"text":');

  constructor(private readonly provider: string) {}

  frame(frame: Frame, out: DeltaObject[]): void {
    // The v2 SDK declares a `[DONE]` terminator; message-end is what actually ends the stream.
    if (frame.data === '[DONE]') return;
    if (this.envelopeCache.take(frame, out)) return;
    const json = parseEventJson(frame);
    if (!isObject(json)) return;
    const before = out.length;
    const v1Type = str(json.event_type);
    if (v1Type !== undefined) this.v1(v1Type, json, out);
    else this.v2(str(json.type) ?? frame.event, json, out);
    this.envelopeCache.observe(frame, out, before);
  }

  end(_out: DeltaObject[]): void {
    if (!this.finished)
      throw incompleteStream(`The [${this.provider}] stream ended before its stream-end or message-end event`);
  }

  private v1(type: string, json: Json, out: DeltaObject[]): void {
    if (type === 'text-generation') {
      if (typeof json.text !== 'string')
        throw providerStreamError(this.provider, 'Null text found in text-generation cohere event', 500);
      pushText(out, json.text);
      return;
    }
    if (type !== 'stream-end') return; // search results, citations, tool calls, debug …
    const reason = str(json.finish_reason);
    const response = isObject(json.response) ? json.response : undefined;
    const errorStatus = reason === undefined ? undefined : V1_ERROR_STATUS.get(reason);
    if (errorStatus !== undefined) {
      const message = str(response?.text) || str(json.text) || `generation ended with finish_reason [${reason}]`;
      throw providerStreamError(this.provider, message, errorStatus);
    }
    this.finished = true;
    pushFinish(out, reason);
    const meta = response && isObject(response.meta) ? response.meta : undefined;
    if (meta) {
      // The shape v2 reports in message-end's `usage`; `api_version` and the like are left out.
      const usage: Json = {};
      if (meta.billed_units !== undefined) usage.billed_units = meta.billed_units;
      if (meta.tokens !== undefined) usage.tokens = meta.tokens;
      if (usage.billed_units !== undefined || usage.tokens !== undefined) pushUsage(out, usage);
    }
  }

  private v2(type: string, json: Json, out: DeltaObject[]): void {
    const delta = isObject(json.delta) ? json.delta : undefined;
    if (type === 'content-delta') {
      const message = delta && isObject(delta.message) ? delta.message : undefined;
      const content = message && isObject(message.content) ? message.content : undefined;
      if (content) {
        pushReasoning(out, content.thinking);
        pushText(out, content.text);
      }
      return;
    }
    const message = delta && isObject(delta.message) ? delta.message : undefined;
    switch (type) {
      case 'message-start': {
        const role: { role: 'assistant'; id?: string } = { role: 'assistant' };
        if (typeof json.id === 'string' && json.id.length > 0) role.id = json.id;
        out.push(role);
        return;
      }
      case 'tool-plan-delta':
        pushReasoning(out, message?.tool_plan); // the model's plan before its calls: not the answer
        return;
      case 'tool-call-start':
      case 'tool-call-delta': {
        const call = message && isObject(message.tool_calls) ? message.tool_calls : undefined;
        const fn = call && isObject(call.function) ? call.function : undefined;
        const key = typeof json.index === 'number' ? json.index : 0;
        const args = typeof fn?.arguments === 'string' ? fn.arguments : undefined;
        if (type === 'tool-call-start' && typeof fn?.name === 'string')
          this.tools.start(out, key, str(call?.id), fn.name, args);
        else if (args !== undefined) this.tools.args(out, key, args);
        return;
      }
      case 'tool-call-end':
        this.tools.close(out, typeof json.index === 'number' ? json.index : 0);
        return;
    }
    if (type !== 'message-end') return;
    const reason = delta ? str(delta.finish_reason) : undefined;
    if (reason === 'ERROR') {
      throw providerStreamError(this.provider, str(delta!.error) || 'generation ended with finish_reason [ERROR]', 500);
    }
    this.finished = true;
    if (!delta) return;
    pushFinish(out, reason);
    pushUsage(out, delta.usage);
  }
}
