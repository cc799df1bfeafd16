import { incompleteStream, providerStreamError } from '../../errors.js';
import type { Frame } from '../../framing/frame.js';
import {
  genericErrorMessage,
  noMessage,
  parseEventJson,
  pushFinish,
  pushReasoning,
  pushText,
  pushUsage,
  statusForErrorWord,
  str,
} from '../common.js';
import { isObject, type Json } from '../../json.js';
import { ShapeCache } from '../shape-cache.js';
import { jsonHeaders, mapSettings, modelOf, resolveUrl, text } from '../settings.js';
import type { DeltaObject, EventNormalizer, ProviderRequest, RequestInput } from '../types.js';
import { ToolCalls } from '../tool-calls.js';

/** Per-stream state of OpenAI-style chunks: whether the message start was reported, and the tool calls. */
export class OpenAiChatState {
  started = false;
  readonly tools = new ToolCalls();
}

export interface OpenAiChatOptions {
  /** Provider id for error messages. */
  provider: string;
  /** Whether the stream must end with `data: [DONE]` (watsonx chat ends without it). Default true. */
  requireDone?: boolean;
  /** A finish_reason that means the provider failed mid-generation (Mistral's `error`). */
  errorFinishReason?: string;
}

/**
 * OpenAI chat-completions chunks (`chat.completion.chunk`), the shape most providers
 * copy. Reads what they add: content as an array of typed parts (Mistral), reasoning
 * text (`reasoning_content`, `reasoning`), choices without `delta` (Azure annotations),
 * `content: null`, `choices: []` usage chunks, and an `error` object in place of a chunk.
 */
export class OpenAiChatNormalizer implements EventNormalizer {
  /** `[DONE]` was read: the rest of the body is not. */
  finished = false;
  private readonly requireDone: boolean;
  /** api.openai.com pads chunks with a random `obfuscation` member (by default; it can be turned off per request). */
  readonly envelopeCache = new ShapeCache('"content":', '"obfuscation":', true, ['"tool_calls"', '"function_call"']);
  private readonly state = new OpenAiChatState();

  constructor(private readonly options: OpenAiChatOptions) {
    this.requireDone = options.requireDone ?? true;
  }

  frame(frame: Frame, out: DeltaObject[]): void {
    if (this.envelopeCache.take(frame, out)) return;
    if (isDone(frame.data)) {
      this.finished = true;
      return;
    }
    const json = parseEventJson(frame);
    // `event: error` is an error whatever its payload: an object, a string, null, a number.
    if (frame.event === 'error')
      throw openAiStreamError(
        this.options.provider,
        isObject(json) && isObject(json.error) ? json.error : json,
        frame.data,
      );
    if (!isObject(json)) return;
    if (json.error !== undefined && json.error !== null)
      throw openAiStreamError(this.options.provider, json.error, frame.data);
    // vLLM / Mistral style: the error object in place of the chunk.
    if (json.object === 'error') throw openAiStreamError(this.options.provider, json, frame.data);
    const before = out.length;
    const finish = openAiChunk(json, out, this.state);
    this.envelopeCache.observe(frame, out, before);
    if (finish !== undefined && finish === this.options.errorFinishReason) {
      throw providerStreamError(this.options.provider, `generation stopped with finish_reason [${finish}]`);
    }
  }

  end(_out: DeltaObject[]): void {
    if (this.requireDone && !this.finished) {
      throw incompleteStream(`The [${this.options.provider}] stream ended before its [DONE] event`);
    }
  }
}

/**
 * The event's whole data is `[DONE]`, compared without case as Elasticsearch does
 * (`[done]` ends too). `[DONE]x`, `[DONE] ` or `[DONE]` followed by another data line is
 * not the end marker: it is read as JSON, and fails as such.
 */
export function isDone(data: string): boolean {
  if (data.length !== 6 || data.charCodeAt(0) !== 0x5b || data.charCodeAt(5) !== 0x5d) return false;
  return data === '[DONE]' || data.toUpperCase() === '[DONE]';
}

/**
 * Delta objects of one chat-completion chunk; the answer is choice 0, or the only choice
 * whatever its `index` (some servers number it 1). Returns the chunk's finish_reason, if
 * it has one. The first chunk with an id (or a role) starts the message; `delta.tool_calls`
 * pieces go through the stream's tool-call state (parallel calls keep their own indexes);
 * `delta.refusal` is a refusal delta.
 */
export function openAiChunk(json: Json, out: DeltaObject[], state: OpenAiChatState): string | undefined {
  let finish: string | undefined;
  const choices = json.choices;
  if (!state.started && typeof json.id === 'string' && json.id.length > 0) {
    state.started = true;
    const role: { role: 'assistant'; id?: string; model?: string } = { role: 'assistant', id: json.id };
    if (typeof json.model === 'string' && json.model.length > 0) role.model = json.model;
    out.push(role);
  }
  if (Array.isArray(choices)) {
    const only = choices.length === 1;
    for (let i = 0; i < choices.length; i++) {
      const choice = choices[i];
      if (!isObject(choice)) continue;
      if (!only && choice.index !== undefined && choice.index !== 0) continue;
      const delta = choice.delta ?? choice.message;
      if (isObject(delta)) {
        if (!state.started && delta.role !== undefined) {
          state.started = true;
          out.push(
            typeof json.model === 'string' && json.model.length > 0
              ? { role: 'assistant', model: json.model }
              : { role: 'assistant' },
          );
        }
        pushReasoning(out, delta.reasoning_content);
        pushReasoning(out, delta.reasoning);
        content(delta.content, out);
        if (typeof delta.refusal === 'string' && delta.refusal.length > 0) out.push({ refusal: delta.refusal });
        if (Array.isArray(delta.tool_calls)) toolCalls(delta.tool_calls, out, state);
      }
      pushFinish(out, choice.finish_reason);
      if (typeof choice.finish_reason === 'string' && choice.finish_reason.length > 0) finish = choice.finish_reason;
    }
  }
  pushUsage(out, json.usage);
  return finish;
}

function toolCalls(calls: unknown[], out: DeltaObject[], state: OpenAiChatState): void {
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    if (!isObject(call)) continue;
    const fn = isObject(call.function) ? call.function : undefined;
    const args =
      fn === undefined
        ? undefined
        : typeof fn.arguments === 'string'
          ? fn.arguments
          : fn.arguments !== undefined && fn.arguments !== null
            ? JSON.stringify(fn.arguments)
            : undefined;
    state.tools.piece(out, typeof call.index === 'number' ? call.index : i, str(call.id), str(fn?.name), args);
  }
}

function content(value: unknown, out: DeltaObject[]): void {
  if (typeof value === 'string') {
    pushText(out, value);
    return;
  }
  if (!Array.isArray(value)) return;
  // Mistral: [{type:"text",text}, {type:"thinking",thinking:[{type:"text",text}]}]
  for (const part of value) {
    if (!isObject(part)) continue;
    if (part.type === 'text') pushText(out, part.text);
    else if (part.type === 'thinking') {
      const thinking = part.thinking;
      if (typeof thinking === 'string') pushReasoning(out, thinking);
      else if (Array.isArray(thinking)) for (const t of thinking) if (isObject(t)) pushReasoning(out, t.text);
    }
  }
}

/**
 * `{"error":{message,type,code}}`, `{"error":{message,http_status_code}}` or `{"error":"…"}`
 * inside a 200 stream; `data` is the event's text, quoted when the payload holds no message.
 */
export function openAiStreamError(provider: string, error: unknown, data?: string) {
  if (typeof error === 'string') return providerStreamError(provider, error);
  if (!isObject(error)) return providerStreamError(provider, noMessage(provider, data ?? String(error)));
  // Mistral puts a validation object in `message`: {"detail":[{"msg"}]}.
  const message =
    str(error.message) ?? genericErrorMessage(error.message) ?? noMessage(provider, data ?? JSON.stringify(error));
  const status =
    typeof error.http_status_code === 'number'
      ? error.http_status_code
      : typeof error.status === 'number'
        ? error.status
        : statusForErrorWord(error.code, statusForErrorWord(error.type));
  return providerStreamError(provider, message, status);
}

// ---------------------------------------------------------------------------------------
// Request half

/** OpenAI's chat-completions body for one user message, with the usual sampling settings. */
export function chatBody(
  input: RequestInput,
  options: { model?: string | undefined; maxTokensAs?: string; usage?: boolean | undefined } = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (options.model !== undefined) body.model = options.model;
  body.messages = [{ role: 'user', content: input.input }];
  body.n = 1;
  body.stream = true;
  if (options.usage) body.stream_options = { include_usage: true };
  mapSettings(
    input.taskSettings,
    {
      max_tokens: options.maxTokensAs ?? 'max_tokens',
      temperature: 'temperature',
      top_p: 'top_p',
      stop: 'stop',
      user: 'user',
    },
    body,
  );
  return body;
}

/** How a service that speaks OpenAI's chat completions with a bearer key differs from OpenAI. */
export interface BearerChatOptions {
  /** The public endpoint, used when `service_settings.url` is not given. */
  defaultUrl: string;
  /** Ask for a final usage chunk (`stream_options.include_usage`). */
  usage?: boolean;
  /** The body field `max_tokens` goes to (OpenAI: `max_completion_tokens`). */
  maxTokensAs?: string;
}

/** The request of a service that speaks OpenAI's chat completions with a bearer key (optional: no header without one). */
export function bearerChatRequest(input: RequestInput, options: BearerChatOptions): ProviderRequest {
  const { endpoint } = input;
  const headers = jsonHeaders();
  const key = text(endpoint.service_settings, 'api_key');
  if (key) headers.authorization = `Bearer ${key}`;
  const org = text(endpoint.service_settings, 'organization_id');
  if (org) headers['openai-organization'] = org;
  return {
    url: resolveUrl(endpoint, options.defaultUrl),
    headers,
    body: JSON.stringify(
      chatBody(input, {
        model: modelOf(endpoint),
        usage: options.usage,
        maxTokensAs: options.maxTokensAs ?? 'max_tokens',
      }),
    ),
  };
}
