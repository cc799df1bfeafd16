import { randomBytes } from 'node:crypto';
import type { InferenceError } from '../errors.js';
import { finalUsage, foldUsage, openAiFinishReason, type ChatUsage } from '../providers/chat/finish.js';
import type { DeltaObject } from '../providers/types.js';

const BOM = '\uFEFF';

/** Elasticsearch's RestStatus names, lower-cased: the `code` of a unified error. */
const STATUS_NAMES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  402: 'payment_required',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  407: 'proxy_authentication',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  411: 'length_required',
  412: 'precondition_failed',
  413: 'request_entity_too_large',
  414: 'request_uri_too_long',
  415: 'unsupported_media_type',
  416: 'requested_range_not_satisfied',
  417: 'expectation_failed',
  422: 'unprocessable_entity',
  423: 'locked',
  424: 'failed_dependency',
  426: 'upgrade_required',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
  500: 'internal_server_error',
  501: 'not_implemented',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
  505: 'http_version_not_supported',
  507: 'insufficient_storage',
};

/** The unified (OpenAI-style) error body of the `chat_completion` route. */
export interface UnifiedErrorBody {
  error: { code?: string; message: string; param?: string; type: string };
}

/**
 * Elasticsearch's `UnifiedChatCompletionException` body: `{"error":{code, message, param,
 * type}}` in that key order, no `status`; `code` is the HTTP status's name lower-cased
 * (`bad_request`, `not_found`, …), `param` is omitted when there is none.
 */
export function unifiedErrorBody(err: InferenceError, param?: string): UnifiedErrorBody {
  const code = STATUS_NAMES[err.status];
  const error = (
    code !== undefined ? { code, message: err.reason } : { message: err.reason }
  ) as UnifiedErrorBody['error'];
  if (param !== undefined) error.param = param;
  error.type = err.type;
  return { error };
}

/** The `event: error` that ends a `chat_completion` stream; nothing follows it. */
export function chatErrorEvent(err: InferenceError, bom = false): string {
  return (bom ? BOM : '') + 'event: error\ndata: ' + JSON.stringify(unifiedErrorBody(err)) + '\n\n';
}

/** Options of the chat chunk writer (and of chatCompletionStream). */
export interface ChatChunkOptions {
  /** Prefix every event with U+FEFF, byte for byte as Elasticsearch writes it. Default false. */
  bom?: boolean;
  /** The chunks' `model` when the provider names none (for example the endpoint's model id). */
  model?: string;
  /** The chunks' `id` when the provider gives none. Default: a generated `chatcmpl-…` id. */
  id?: string;
}

const OBJECT = ',"object":"chat.completion.chunk"';

/**
 * Delta objects in, `chat.completion.chunk` events out, one chunk per event, in
 * Elasticsearch's key order (`id, choices, model, object, usage`; a choice's `delta,
 * finish_reason, index`; a delta's `content, refusal, role, tool_calls`; a tool call's
 * `index, id, function, type`; a function's `arguments, name`), nulls omitted.
 *
 * Each call of {@link group} turns the deltas of one provider event into at most one
 * chunk. The first chunk carries `role: "assistant"`. Finish reasons are mapped to
 * OpenAI's; usage is folded over the answer and sent once, in a last chunk with
 * `choices: []` (as OpenAI does with `stream_options.include_usage`). Reasoning text is
 * not answer text and is not written.
 */
export class ChatChunker {
  private readonly bom: string;
  private id: string | undefined;
  private model: string | undefined;
  private readonly fallbackModel: string;
  private prefix = '';
  private roleSent = false;
  private toolCalls = 0;
  private readonly usage: Partial<ChatUsage> = {};
  private sawUsage = false;

  constructor(options: ChatChunkOptions = {}) {
    this.bom = options.bom ? BOM : '';
    this.id = options.id;
    this.fallbackModel = options.model ?? '';
  }

  /** The event for the deltas `deltas[from…]` of one provider event, or '' when they show nothing. */
  group(deltas: readonly DeltaObject[], from = 0): string {
    let content: string | undefined;
    let refusal: string | undefined;
    let calls: string | undefined;
    let finish: string | undefined;
    let role = false;
    for (let i = from; i < deltas.length; i++) {
      const d = deltas[i] as unknown as Partial<Record<string, unknown>>;
      if (typeof d.delta === 'string') content = content === undefined ? d.delta : content + d.delta;
      else if (d.tool_call !== undefined) {
        const call = d.tool_call as { index: number; id?: string; name?: string; arguments?: string };
        if (call.id !== undefined) this.toolCalls++;
        const json = toolCallJson(call);
        calls = calls === undefined ? json : calls + ',' + json;
      } else if (typeof d.finish_reason === 'string') finish = d.finish_reason;
      else if (d.usage !== undefined) {
        foldUsage(this.usage, d.usage as Record<string, unknown>);
        this.sawUsage = true;
      } else if (typeof d.refusal === 'string') refusal = refusal === undefined ? d.refusal : refusal + d.refusal;
      else if (d.role !== undefined) {
        role = true;
        if (this.id === undefined && typeof d.id === 'string' && d.id.length > 0) this.id = d.id;
        if (this.model === undefined && typeof d.model === 'string' && d.model.length > 0) this.model = d.model;
      }
    }
    if (
      content === undefined &&
      refusal === undefined &&
      calls === undefined &&
      finish === undefined &&
      !(role && !this.roleSent)
    )
      return '';
    let delta = '';
    if (content !== undefined) delta = '"content":' + JSON.stringify(content);
    if (refusal !== undefined) delta += (delta ? ',' : '') + '"refusal":' + JSON.stringify(refusal);
    if (!this.roleSent) {
      this.roleSent = true;
      delta += (delta ? ',' : '') + '"role":"assistant"';
    }
    if (calls !== undefined) delta += (delta ? ',' : '') + '"tool_calls":[' + calls + ']';
    let choice = '{"delta":{' + delta + '}';
    if (finish !== undefined)
      choice += ',"finish_reason":' + JSON.stringify(openAiFinishReason(finish, this.toolCalls > 0));
    return this.event('[' + choice + ',"index":0}]', '');
  }

  /** At a clean end: the usage chunk (`choices: []`) when the provider reported usage, else ''. */
  end(): string {
    if (!this.sawUsage) return '';
    const usage = finalUsage(this.usage);
    if (usage === undefined) return '';
    return this.event(
      '[]',
      ',"usage":{"completion_tokens":' +
        usage.completion_tokens +
        ',"prompt_tokens":' +
        usage.prompt_tokens +
        ',"total_tokens":' +
        usage.total_tokens +
        '}',
    );
  }

  /** Tool calls seen so far. */
  get toolCallCount(): number {
    return this.toolCalls;
  }

  private event(choices: string, usage: string): string {
    if (this.prefix === '') {
      this.id ??= 'chatcmpl-' + randomBytes(12).toString('base64url');
      this.prefix = this.bom + 'event: message\ndata: {"id":' + JSON.stringify(this.id) + ',"choices":';
      this.suffix = ',"model":' + JSON.stringify(this.model ?? this.fallbackModel) + OBJECT;
    }
    return this.prefix + choices + this.suffix + usage + '}\n\n';
  }
  private suffix = '';
}

function toolCallJson(call: { index: number; id?: string; name?: string; arguments?: string }): string {
  let json = '{"index":' + call.index;
  if (call.id !== undefined) json += ',"id":' + JSON.stringify(call.id);
  // a call's first delta carries `arguments` (empty when none came yet), as OpenAI's does
  const args = call.arguments ?? (call.id !== undefined ? '' : undefined);
  if (args !== undefined || call.name !== undefined) {
    json += ',"function":{';
    if (args !== undefined) json += '"arguments":' + JSON.stringify(args);
    if (call.name !== undefined) json += (args !== undefined ? ',' : '') + '"name":' + JSON.stringify(call.name);
    json += '}';
  }
  if (call.id !== undefined) json += ',"type":"function"';
  return json + '}';
}

/** The event that ends a clean `chat_completion` stream. */
export function chatDoneEvent(bom = false): string {
  return (bom ? BOM : '') + 'event: message\ndata: [DONE]\n\n';
}
