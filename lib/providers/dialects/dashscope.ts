import { providerStreamError } from '../../errors.js';
import { pushFinish, pushReasoning, pushText, pushUsage, str } from '../common.js';
import { isObject, type Json } from '../../json.js';
import { ToolCalls } from '../tool-calls.js';
import type { DeltaObject } from '../types.js';

/**
 * DashScope text is incremental, or cumulative (`incremental_output: false`: every event
 * repeats everything so far). Nothing on the wire says which: the request does, and when
 * it is known (`incremental`, from the request the client sent) it is followed exactly:
 * "Ha", "Ha", "!" is "HaHa!" when incremental. Only when it is unknown (a body from the
 * CLI or the library) does the data decide: the second non-empty text starting with the
 * first means cumulative, and only the new suffix is handed on. A cumulative text that
 * stops extending the previous one is taken whole rather than losing it.
 */
export class IncrementalOrCumulative {
  private mode: 'unknown' | 'incremental' | 'cumulative';
  /** The first text while undecided; the latest snapshot when cumulative. */
  private last = '';

  constructor(incremental?: boolean) {
    this.mode = incremental === undefined ? 'unknown' : incremental ? 'incremental' : 'cumulative';
  }

  next(text: string): string {
    if (text.length === 0 || this.mode === 'incremental') return text;
    if (this.mode === 'cumulative' && !text.startsWith(this.last)) {
      this.last = text;
      return text;
    }
    if (this.mode === 'unknown' && this.last.length === 0) {
      this.last = text;
      return text;
    }
    if (text.startsWith(this.last)) {
      this.mode = 'cumulative';
      const fresh = text.slice(this.last.length);
      this.last = text;
      return fresh;
    }
    this.mode = 'incremental';
    this.last = '';
    return text;
  }
}

/**
 * Native DashScope events: `output.choices[0].message.{content,reasoning_content}` with
 * `finish_reason` (the string "null" until the last event), or `output.text` with
 * `output.finish_reason`. `usage` is a running total on every event; it is handed on once,
 * with the last event.
 */
export class DashScopeNativeReader {
  private readonly text: IncrementalOrCumulative;
  private readonly reasoning: IncrementalOrCumulative;

  /** `incremental`: what the request asked for; undefined when unknown (the data decides). */
  constructor(incremental?: boolean) {
    this.text = new IncrementalOrCumulative(incremental);
    this.reasoning = new IncrementalOrCumulative(incremental);
  }
  private readonly tools = new ToolCalls();
  private started = false;

  /** Incremental tool-call pieces in OpenAI's form (`index`, `id`, `function.name`, `function.arguments`). */
  private toolCalls(calls: unknown[], out: DeltaObject[]): void {
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i];
      if (!isObject(call)) continue;
      const fn = isObject(call.function) ? call.function : undefined;
      this.tools.piece(
        out,
        typeof call.index === 'number' ? call.index : i,
        str(call.id),
        str(fn?.name),
        str(fn?.arguments),
      );
    }
  }

  /** Returns true for the last event (a finish_reason other than "null"). */
  read(json: Json, output: Json, out: DeltaObject[]): boolean {
    if (!this.started) {
      this.started = true;
      out.push(
        typeof json.request_id === 'string' && json.request_id.length > 0
          ? { role: 'assistant', id: json.request_id }
          : { role: 'assistant' },
      );
    }
    let finish: unknown;
    const choices = output.choices;
    if (Array.isArray(choices)) {
      const choice = firstChoice(choices);
      if (choice === undefined) return false;
      const message = choice.message;
      if (isObject(message)) {
        pushReasoning(out, this.reasoning.next(textOf(message.reasoning_content)));
        pushText(out, this.text.next(textOf(message.content)));
        if (Array.isArray(message.tool_calls)) this.toolCalls(message.tool_calls, out);
      }
      finish = choice.finish_reason;
    } else {
      pushText(out, this.text.next(textOf(output.text)));
      finish = output.finish_reason;
    }
    if (typeof finish !== 'string' || finish.length === 0 || finish === 'null') return false;
    pushFinish(out, finish);
    pushUsage(out, json.usage);
    return true;
  }
}

function firstChoice(choices: unknown[]): Json | undefined {
  for (const c of choices) if (isObject(c) && (c.index === undefined || c.index === 0)) return c;
  return undefined;
}

/** Content is a string, or (multimodal models) a list of `{text}` parts. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return '';
  let s = '';
  for (const part of value) if (isObject(part) && typeof part.text === 'string') s += part.text;
  return s;
}

/** A native error payload: `{"code","message","request_id"}` with no `output`. */
export function isDashScopeError(json: Json): boolean {
  return typeof json.code === 'string' && json.code.length > 0 && json.output === undefined;
}

/**
 * DashScope error code -> HTTP status, from Alibaba Cloud Model Studio's status code table.
 * The stream states the status only in a `:HTTP_STATUS/NNN` comment, which SSE framing
 * drops; the code determines it just as well. Native codes are `Throttling.RateQuota`,
 * compatible-mode codes `data_inspection_failed`: both are compared without case or `._`.
 */
export function dashScopeStatus(code: string | undefined): number {
  if (code === undefined) return 500;
  const key = code.toLowerCase().replace(/[._]/g, '');
  if (key.startsWith('throttling') || key === 'limitrequests' || key === 'insufficientquota') return 429;
  if (key === 'invalidapikey') return 401;
  if (key.startsWith('accessdenied')) return 403;
  if (key.startsWith('modelnotfound') || key.startsWith('notfound')) return 404;
  if (key === 'requesttimeout') return 408;
  if (key === 'badrequesttoolarge') return 413;
  if (key.startsWith('internalerror') || key === 'systemerror') return 500;
  if (key.startsWith('modelunavailable') || key.startsWith('serviceunavailable') || key === 'modelservingerror')
    return 503;
  if (
    key.startsWith('invalid') ||
    key.startsWith('badrequest') ||
    key.startsWith('datainspection') ||
    key === 'arrearage' ||
    key === 'unsupportedoperation'
  ) {
    return 400;
  }
  return 500;
}

/** A DashScope error payload as an error, its status from `status_code` or the code. */
export function dashScopeError(provider: string, json: Json) {
  const code = str(json.code);
  const message = str(json.message) ?? code ?? JSON.stringify(json);
  const status = typeof json.status_code === 'number' ? json.status_code : dashScopeStatus(code);
  return providerStreamError(provider, message, status);
}
