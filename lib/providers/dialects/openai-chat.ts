import { incompleteStream } from '../../errors.js';
import type { Frame } from '../../framing/frame.js';
import {
  genericErrorMessage,
  isObject,
  noMessage,
  parseEventJson,
  providerStreamError,
  pushFinish,
  pushReasoning,
  pushText,
  pushUsage,
  statusForErrorWord,
  str,
  type Json,
} from '../common.js';
import { ShapeCache } from '../shape-cache.js';
import type { DeltaObject, EventNormalizer } from '../types.js';

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
  private readonly shape = new ShapeCache('"content":', '"obfuscation":');

  constructor(private readonly options: OpenAiChatOptions) {
    this.requireDone = options.requireDone ?? true;
  }

  frame(frame: Frame, out: DeltaObject[]): void {
    if (this.shape.take(frame, out)) return;
    if (isDone(frame.data)) {
      this.finished = true;
      return;
    }
    const json = parseEventJson(frame);
    // `event: error` is an error whatever its payload: an object, a string, null, a number.
    if (frame.event === 'error') throw openAiStreamError(this.options.provider, isObject(json) && isObject(json.error) ? json.error : json, frame.data);
    if (!isObject(json)) return;
    if (json.error !== undefined && json.error !== null) throw openAiStreamError(this.options.provider, json.error, frame.data);
    // vLLM / Mistral style: the error object in place of the chunk.
    if (json.object === 'error') throw openAiStreamError(this.options.provider, json, frame.data);
    const before = out.length;
    const finish = openAiChunk(json, out);
    this.shape.observe(frame, out, before);
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
 * it has one.
 */
export function openAiChunk(json: Json, out: DeltaObject[]): string | undefined {
  let finish: string | undefined;
  const choices = json.choices;
  if (Array.isArray(choices)) {
    const only = choices.length === 1;
    for (let i = 0; i < choices.length; i++) {
      const choice = choices[i];
      if (!isObject(choice)) continue;
      if (!only && choice.index !== undefined && choice.index !== 0) continue;
      const delta = choice.delta ?? choice.message;
      if (isObject(delta)) {
        pushReasoning(out, delta.reasoning_content);
        pushReasoning(out, delta.reasoning);
        content(delta.content, out);
      }
      pushFinish(out, choice.finish_reason);
      if (typeof choice.finish_reason === 'string' && choice.finish_reason.length > 0) finish = choice.finish_reason;
    }
  }
  pushUsage(out, json.usage);
  return finish;
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
  const message = str(error.message) ?? genericErrorMessage(error.message) ?? noMessage(provider, data ?? JSON.stringify(error));
  const status =
    typeof error.http_status_code === 'number'
      ? error.http_status_code
      : typeof error.status === 'number'
        ? error.status
        : statusForErrorWord(error.code, statusForErrorWord(error.type));
  return providerStreamError(provider, message, status);
}

