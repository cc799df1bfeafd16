import { incompleteStream } from '../../errors.js';
import type { Frame } from '../../framing/frame.js';
import { isObject, JsonLines, noMessage, parseEventJsonLines, providerStreamError, pushFinish, pushReasoning, pushText, pushUsage, str, type Json } from '../common.js';
import { ShapeCache } from '../shape-cache.js';
import type { DeltaObject, EventNormalizer } from '../types.js';

/** Anthropic's error types Elasticsearch maps to a status; anything else (api_error, overloaded_error) is 500, as there. */
const ERROR_STATUS = new Map<string, number>([
  ['invalid_request_error', 400],
  ['authentication_error', 401],
  ['permission_error', 403],
  ['not_found_error', 404],
  ['request_too_large', 413],
  ['rate_limit_error', 429],
]);

/**
 * Anthropic Messages stream: `content_block_delta` with `text_delta` is the answer,
 * `thinking_delta` is reasoning, signature / tool-input / citation deltas are neither,
 * `message_stop` ends it (a body may carry several messages, each from `message_start`
 * to `message_stop`: the stream is complete when the last one is), `event: error` is an
 * error whatever its payload, `ping` and unknown events are ignored. Also used for
 * Anthropic models behind Vertex AI and Bedrock.
 */
export class AnthropicMessagesNormalizer implements EventNormalizer {
  readonly state = { done: false };
  private readonly shape = new ShapeCache('"text":');

  constructor(private readonly provider: string) {}

  frame(frame: Frame, out: DeltaObject[]): void {
    if (this.shape.take(frame, out)) return;
    if (frame.event === 'ping') return;
    const json = parseEventJsonLines(frame);
    if (json instanceof JsonLines) {
      for (const value of json.values) this.value(frame, value, out);
      return;
    }
    if (!isObject(json)) {
      // `event: error` is an error whatever its payload.
      if (frame.event === 'error') throw anthropicError(this.provider, json, frame.data);
      return;
    }
    const before = out.length;
    anthropicEvent(this.provider, json, frame.event, out, this.state);
    this.shape.observe(frame, out, before);
  }

  /** One of several values in one event: read like an event of its own (never learned by the shape cache). */
  private value(frame: Frame, json: unknown, out: DeltaObject[]): void {
    if (isObject(json)) anthropicEvent(this.provider, json, frame.event, out, this.state);
    else if (frame.event === 'error') throw anthropicError(this.provider, json, frame.data);
  }

  end(_out: DeltaObject[]): void {
    if (!this.state.done) throw incompleteStream(`The [${this.provider}] stream ended before its message_stop event`);
  }
}

/** One Anthropic event (already parsed); `eventName` is the SSE event name when there is one. */
export function anthropicEvent(
  provider: string,
  json: Json,
  eventName: string,
  out: DeltaObject[],
  state: { done: boolean },
): void {
  const type = str(json.type) ?? eventName;
  switch (type) {
    case 'content_block_delta': {
      const delta = json.delta;
      if (!isObject(delta)) return;
      if (delta.type === 'text_delta') pushText(out, delta.text);
      else if (delta.type === 'thinking_delta') pushReasoning(out, delta.thinking);
      return;
    }
    case 'content_block_start': {
      const block = json.content_block;
      if (isObject(block)) {
        if (block.type === 'text') pushText(out, block.text);
        else if (block.type === 'thinking') pushReasoning(out, block.thinking);
      }
      return;
    }
    case 'message_delta': {
      if (isObject(json.delta)) pushFinish(out, json.delta.stop_reason);
      pushUsage(out, json.usage);
      return;
    }
    case 'message_stop':
      state.done = true;
      return;
    case 'message_start':
      // One body may carry several messages (server tools, programmatic tool calling).
      state.done = false;
      return;
    case 'error':
      throw anthropicError(provider, json.error ?? json);
    default:
      if (eventName === 'error') throw anthropicError(provider, json.error ?? json);
  }
}

export function anthropicError(provider: string, error: unknown, data?: string) {
  if (typeof error === 'string') return providerStreamError(provider, error);
  if (!isObject(error)) return providerStreamError(provider, noMessage(provider, data ?? String(error)));
  const type = str(error.type) ?? 'error';
  const message = str(error.message) ?? (type !== 'error' ? type : noMessage(provider, data ?? JSON.stringify(error)));
  return providerStreamError(provider, message, ERROR_STATUS.get(type) ?? 500);
}
