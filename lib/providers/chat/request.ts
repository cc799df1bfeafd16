import { contentParseError, validationFailed, type InferenceError } from '../../errors.js';
export { unsupportedByProvider } from '../../errors.js';

/** A message's text: a string, or text parts as OpenAI's chat API takes them. */
export type ChatContent = string | ChatTextPart[];

/** `{"type":"text","text":…}`, the one content part type Elasticsearch's unified API takes. */
export interface ChatTextPart {
  type: 'text';
  text: string;
}

/** A tool call the assistant made, as a previous turn sends it back. */
export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One message of the conversation. */
export type ChatMessage =
  | { role: 'system' | 'developer' | 'user'; content: ChatContent }
  | { role: 'assistant'; content: ChatContent | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; content: ChatContent; tool_call_id: string };

/** A function the model may call: `{"type":"function","function":{name, description, parameters, strict}}`. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** `auto`, `none`, `required`, or one named function. */
export type ChatToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/**
 * The body of `POST _inference/chat_completion/<id>/_stream`: an OpenAI-style chat request,
 * as Elasticsearch's unified API takes it. Built by {@link parseChatRequest}, so every
 * field is known to be well formed.
 */
export interface ChatRequest {
  messages: ChatMessage[];
  /** Overrides the endpoint's `model_id`. */
  model?: string;
  max_completion_tokens?: number;
  /** Always an array here (a single string is accepted on the wire). */
  stop?: string[];
  temperature?: number;
  top_p?: number;
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
}

const PARSER = 'unified_completion_request';
const FIELDS = new Set([
  'messages',
  'model',
  'max_completion_tokens',
  'stop',
  'temperature',
  'top_p',
  'tools',
  'tool_choice',
]);
const MESSAGE_FIELDS = new Set(['role', 'content', 'tool_calls', 'tool_call_id']);
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function parseError(where: string, reason: string): InferenceError {
  return contentParseError(`[${where}] ${reason}`);
}

function invalid(reason: string): InferenceError {
  return validationFailed([reason]);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownFields(value: Record<string, unknown>, known: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(value)) if (!known.has(key)) throw parseError(where, `unknown field [${key}]`);
}

function expect(cond: boolean, where: string, field: string, what: string): void {
  if (!cond) throw parseError(where, `failed to parse field [${field}]: expected ${what}`);
}

function content(value: unknown, where: string): ChatContent {
  if (typeof value === 'string') return value;
  expect(Array.isArray(value), where, 'content', 'a string or an array of text parts');
  const parts = value as unknown[];
  const out: ChatTextPart[] = new Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const at = `${where}.content[${i}]`;
    if (!isPlainObject(part)) throw parseError(at, 'expected an object {"type":"text","text":…}');
    unknownFields(part, TEXT_PART_FIELDS, at);
    expect(part.type === 'text', at, 'type', '"text"');
    expect(typeof part.text === 'string', at, 'text', 'a string');
    out[i] = { type: 'text', text: part.text as string };
  }
  return out;
}
const TEXT_PART_FIELDS = new Set(['type', 'text']);

function toolCall(value: unknown, where: string): ChatToolCall {
  if (!isPlainObject(value)) throw parseError(where, 'expected an object');
  unknownFields(value, TOOL_CALL_FIELDS, where);
  expect(typeof value.id === 'string' && value.id.length > 0, where, 'id', 'a non-empty string');
  expect(value.type === undefined || value.type === 'function', where, 'type', '"function"');
  const fn = value.function;
  if (!isPlainObject(fn)) throw parseError(where, 'failed to parse field [function]: expected an object');
  unknownFields(fn, FUNCTION_CALL_FIELDS, `${where}.function`);
  expect(typeof fn.name === 'string' && fn.name.length > 0, `${where}.function`, 'name', 'a non-empty string');
  expect(typeof fn.arguments === 'string', `${where}.function`, 'arguments', 'a string (JSON text)');
  return {
    id: value.id as string,
    type: 'function',
    function: { name: fn.name as string, arguments: fn.arguments as string },
  };
}
const TOOL_CALL_FIELDS = new Set(['id', 'type', 'function']);
const FUNCTION_CALL_FIELDS = new Set(['name', 'arguments']);

function message(value: unknown, i: number): ChatMessage {
  const where = `messages[${i}]`;
  if (!isPlainObject(value)) throw parseError(where, 'expected an object');
  unknownFields(value, MESSAGE_FIELDS, where);
  const role = value.role;
  if (typeof role !== 'string' || !ROLES.has(role)) {
    throw parseError(
      where,
      `failed to parse field [role]: expected one of [system, developer, user, assistant, tool], got [${String(role)}]`,
    );
  }
  if (role !== 'assistant' && value.tool_calls !== undefined)
    throw parseError(where, `field [tool_calls] is only allowed on assistant messages`);
  if (role !== 'tool' && value.tool_call_id !== undefined)
    throw parseError(where, `field [tool_call_id] is only allowed on tool messages`);
  if (role === 'assistant') {
    let calls: ChatToolCall[] | undefined;
    if (value.tool_calls !== undefined && value.tool_calls !== null) {
      expect(Array.isArray(value.tool_calls), where, 'tool_calls', 'an array');
      calls = (value.tool_calls as unknown[]).map((c, j) => toolCall(c, `${where}.tool_calls[${j}]`));
    }
    const text = value.content === undefined || value.content === null ? null : content(value.content, where);
    if (text === null && (calls === undefined || calls.length === 0))
      throw invalid(`Field [content] of [${where}] cannot be null for an assistant message without [tool_calls]`);
    return calls !== undefined && calls.length > 0
      ? { role, content: text, tool_calls: calls }
      : { role, content: text };
  }
  if (value.content === undefined || value.content === null)
    throw invalid(`Field [content] of [${where}] cannot be null`);
  const text = content(value.content, where);
  if (role === 'tool') {
    expect(
      typeof value.tool_call_id === 'string' && value.tool_call_id.length > 0,
      where,
      'tool_call_id',
      'a non-empty string',
    );
    return { role, content: text, tool_call_id: value.tool_call_id as string };
  }
  return { role: role as 'system' | 'developer' | 'user', content: text };
}

function tool(value: unknown, i: number): ChatTool {
  const where = `tools[${i}]`;
  if (!isPlainObject(value)) throw parseError(where, 'expected an object');
  unknownFields(value, TOOL_FIELDS, where);
  expect(value.type === 'function', where, 'type', '"function"');
  const fn = value.function;
  if (!isPlainObject(fn)) throw parseError(where, 'failed to parse field [function]: expected an object');
  const at = `${where}.function`;
  unknownFields(fn, FUNCTION_FIELDS, at);
  expect(typeof fn.name === 'string' && fn.name.length > 0, at, 'name', 'a non-empty string');
  const out: ChatTool['function'] = { name: fn.name as string };
  if (fn.description !== undefined && fn.description !== null) {
    expect(typeof fn.description === 'string', at, 'description', 'a string');
    out.description = fn.description as string;
  }
  if (fn.parameters !== undefined && fn.parameters !== null) {
    expect(isPlainObject(fn.parameters), at, 'parameters', 'an object (a JSON schema)');
    out.parameters = fn.parameters as Record<string, unknown>;
  }
  if (fn.strict !== undefined && fn.strict !== null) {
    expect(typeof fn.strict === 'boolean', at, 'strict', 'a boolean');
    out.strict = fn.strict as boolean;
  }
  return { type: 'function', function: out };
}
const TOOL_FIELDS = new Set(['type', 'function']);
const FUNCTION_FIELDS = new Set(['name', 'description', 'parameters', 'strict']);

function toolChoice(value: unknown): ChatToolChoice {
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  const where = 'tool_choice';
  if (typeof value === 'string')
    throw parseError(
      PARSER,
      `failed to parse field [tool_choice]: expected one of [auto, none, required] or a function, got [${value}]`,
    );
  if (!isPlainObject(value))
    throw parseError(PARSER, 'failed to parse field [tool_choice]: expected a string or an object');
  unknownFields(value, TOOL_FIELDS, where);
  expect(value.type === 'function', where, 'type', '"function"');
  const fn = value.function;
  if (!isPlainObject(fn)) throw parseError(where, 'failed to parse field [function]: expected an object');
  unknownFields(fn, NAME_ONLY, `${where}.function`);
  expect(typeof fn.name === 'string' && fn.name.length > 0, `${where}.function`, 'name', 'a non-empty string');
  return { type: 'function', function: { name: fn.name as string } };
}
const NAME_ONLY = new Set(['name']);

function finite(value: unknown, field: string): number {
  expect(typeof value === 'number' && Number.isFinite(value), PARSER, field, 'a number');
  return value as number;
}

/**
 * Reads and checks a chat request body. Unknown fields and wrong types are a 400
 * `x_content_parse_exception`; a missing or empty `messages`, and combinations no
 * provider accepts, a 400 `action_request_validation_exception`. Nothing is sent to a
 * provider for a body that fails here.
 */
export function parseChatRequest(body: unknown): ChatRequest {
  if (!isPlainObject(body)) throw parseError(PARSER, 'request body must be a JSON object');
  unknownFields(body, FIELDS, PARSER);
  const raw = body.messages;
  if (raw === undefined || raw === null) throw invalid('Field [messages] cannot be null');
  expect(Array.isArray(raw), PARSER, 'messages', 'an array of messages');
  const list = raw as unknown[];
  if (list.length === 0) throw invalid('Field [messages] cannot be an empty array');
  const request: ChatRequest = { messages: list.map(message) };
  if (body.model !== undefined && body.model !== null) {
    expect(typeof body.model === 'string' && body.model.length > 0, PARSER, 'model', 'a non-empty string');
    request.model = body.model as string;
  }
  if (body.max_completion_tokens !== undefined && body.max_completion_tokens !== null) {
    const n = finite(body.max_completion_tokens, 'max_completion_tokens');
    if (!Number.isInteger(n) || n < 1) throw invalid('Field [max_completion_tokens] must be a positive integer');
    request.max_completion_tokens = n;
  }
  if (body.stop !== undefined && body.stop !== null) {
    const stop = body.stop;
    if (typeof stop === 'string') request.stop = [stop];
    else {
      expect(
        Array.isArray(stop) && stop.every((s) => typeof s === 'string'),
        PARSER,
        'stop',
        'a string or an array of strings',
      );
      request.stop = stop as string[];
    }
  }
  if (body.temperature !== undefined && body.temperature !== null)
    request.temperature = finite(body.temperature, 'temperature');
  if (body.top_p !== undefined && body.top_p !== null) request.top_p = finite(body.top_p, 'top_p');
  if (body.tools !== undefined && body.tools !== null) {
    expect(Array.isArray(body.tools), PARSER, 'tools', 'an array of tools');
    request.tools = (body.tools as unknown[]).map(tool);
    const names = new Set<string>();
    for (const t of request.tools) {
      if (names.has(t.function.name)) throw invalid(`Field [tools] names the function [${t.function.name}] twice`);
      names.add(t.function.name);
    }
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    const choice = toolChoice(body.tool_choice);
    const tools = request.tools ?? [];
    if (choice !== 'none' && choice !== 'auto' && tools.length === 0)
      throw invalid('Field [tool_choice] requires [tools]');
    if (typeof choice === 'object' && !tools.some((t) => t.function.name === choice.function.name)) {
      throw invalid(`Field [tool_choice] names the function [${choice.function.name}], which is not in [tools]`);
    }
    request.tool_choice = choice;
  }
  return request;
}

/** A message's text, its parts joined. */
export function textOf(content: ChatContent | null): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  for (let i = 0; i < content.length; i++) text += content[i]!.text;
  return text;
}

/** A message's text as parts (a string becomes one part; empty text, none). */
export function partsOf(content: ChatContent | null): ChatTextPart[] {
  if (content === null) return [];
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  return content.filter((p) => p.text.length > 0);
}

/** Tool arguments as an object, for providers that take them parsed (Anthropic, Gemini, Bedrock, Ollama). */
export function argumentsObject(call: ChatToolCall): Record<string, unknown> {
  const text = call.function.arguments.trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(`The arguments of tool call [${call.id}] are not JSON`);
  }
  if (!isPlainObject(parsed)) throw invalid(`The arguments of tool call [${call.id}] must be a JSON object`);
  return parsed;
}
