import { incompleteStream, providerStreamError } from '../../errors.js';
import type { Frame } from '../../framing/frame.js';
import {
  JsonLines,
  noMessage,
  parseEventJsonLines,
  pushFinish,
  pushReasoning,
  pushText,
  pushUsage,
  str,
} from '../common.js';
import { isObject, type Json } from '../../json.js';
import { ShapeCache } from '../shape-cache.js';
import { ToolCalls } from '../tool-calls.js';
import type { DeltaObject, EventNormalizer, RequestInput } from '../types.js';
import { mapSettings } from '../settings.js';

/**
 * A Messages request body for a completion: `head` first (the model, or Vertex AI's
 * `anthropic_version`), the input as one user turn, `max_tokens` (required by Anthropic:
 * 1024 when the endpoint sets none), streaming, and the task settings Anthropic takes.
 */
export function anthropicMessagesBody(input: RequestInput, head: Record<string, unknown>): string {
  const body: Record<string, unknown> = {
    ...head,
    messages: [{ role: 'user', content: input.input }],
    max_tokens: input.taskSettings.max_tokens ?? 1024,
    stream: true,
  };
  mapSettings(
    input.taskSettings,
    { temperature: 'temperature', top_p: 'top_p', top_k: 'top_k', stop: 'stop_sequences' },
    body,
  );
  return JSON.stringify(body);
}

/** Per-stream state of an Anthropic message: the end marker, the tool calls, the prompt usage from message_start. */
export class AnthropicState {
  done = false;
  readonly tools = new ToolCalls();
  startUsage: Json | undefined;
}

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
  readonly state = new AnthropicState();
  readonly envelopeCache = new ShapeCache('"text":');

  constructor(private readonly provider: string) {}

  frame(frame: Frame, out: DeltaObject[]): void {
    if (this.envelopeCache.take(frame, out)) return;
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
    this.envelopeCache.observe(frame, out, before);
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
  state: AnthropicState,
): void {
  const type = str(json.type) ?? eventName;
  switch (type) {
    case 'content_block_delta': {
      const delta = json.delta;
      if (!isObject(delta)) return;
      if (delta.type === 'text_delta') pushText(out, delta.text);
      else if (delta.type === 'thinking_delta') pushReasoning(out, delta.thinking);
      else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string')
        state.tools.args(out, blockKey(json.index), delta.partial_json);
      return;
    }
    case 'content_block_start': {
      const block = json.content_block;
      if (isObject(block)) {
        if (block.type === 'text') pushText(out, block.text);
        else if (block.type === 'thinking') pushReasoning(out, block.thinking);
        // tool_use (and server_tool_use) blocks: the input arrives as input_json_delta pieces
        else if (block.type === 'tool_use' && typeof block.name === 'string')
          state.tools.start(out, blockKey(json.index), str(block.id), block.name, startInput(block.input));
      }
      return;
    }
    case 'content_block_stop':
      state.tools.close(out, blockKey(json.index));
      return;
    case 'message_start': {
      // One body may carry several messages (server tools, programmatic tool calling): each must reach its message_stop.
      state.done = false;
      const message = isObject(json.message) ? json.message : undefined;
      const role: { role: 'assistant'; id?: string; model?: string } = { role: 'assistant' };
      if (message !== undefined) {
        if (typeof message.id === 'string') role.id = message.id;
        if (typeof message.model === 'string') role.model = message.model;
        if (isObject(message.usage)) state.startUsage = message.usage;
      }
      out.push(role);
      return;
    }
    case 'message_delta': {
      if (isObject(json.delta)) pushFinish(out, json.delta.stop_reason);
      // message_delta's usage is cumulative but may leave out the prompt's tokens: message_start had them
      if (isObject(json.usage))
        pushUsage(out, state.startUsage !== undefined ? { ...state.startUsage, ...json.usage } : json.usage);
      else if (state.startUsage !== undefined) pushUsage(out, state.startUsage);
      return;
    }
    case 'message_stop':
      state.done = true;
      return;
    case 'error':
      throw anthropicError(provider, json.error ?? json);
    default:
      if (eventName === 'error') throw anthropicError(provider, json.error ?? json);
  }
}

function blockKey(index: unknown): number | string {
  return typeof index === 'number' ? index : String(index);
}

/** A tool_use block's starting input: `{}` (the usual case, the input follows as deltas) adds nothing. */
function startInput(input: unknown): string | undefined {
  if (!isObject(input) || Object.keys(input).length === 0) return undefined;
  return JSON.stringify(input);
}

/** An Anthropic `error` event (`{type, message}`, or any other payload) as an error, with the status Elasticsearch gives its type. */
export function anthropicError(provider: string, error: unknown, data?: string) {
  if (typeof error === 'string') return providerStreamError(provider, error);
  if (!isObject(error)) return providerStreamError(provider, noMessage(provider, data ?? String(error)));
  const type = str(error.type) ?? 'error';
  const message = str(error.message) ?? (type !== 'error' ? type : noMessage(provider, data ?? JSON.stringify(error)));
  return providerStreamError(provider, message, ERROR_STATUS.get(type) ?? 500);
}
