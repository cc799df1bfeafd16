import type { ChatMessage, ChatRequest, ChatToolChoice } from './request.js';
import { unsupportedByProvider } from './request.js';

/** What a chat translator knows besides the request. */
export interface ChatTarget {
  /** Elasticsearch service name, for error messages. */
  service: string;
  /** The model: the request's `model`, else the endpoint's `model_id`. Undefined when neither names one. */
  model: string | undefined;
}

export interface OpenAiChatBodyOptions {
  /** Send `model` in the body (Azure OpenAI's deployment route takes none). Default true. */
  model?: boolean;
  /** The name the token limit goes under: OpenAI `max_completion_tokens`, most others `max_tokens`. */
  maxTokensAs?: 'max_completion_tokens' | 'max_tokens';
  /** Ask for the usage chunk (`stream_options.include_usage`), where the provider documents it. */
  includeUsage?: boolean;
  /** The provider knows the `developer` role (OpenAI); elsewhere it is sent as `system`. */
  developerRole?: boolean;
  /** Tool choices the provider accepts (all four when absent). */
  toolChoices?: ReadonlySet<'auto' | 'none' | 'required' | 'function'>;
}

function choiceKind(choice: ChatToolChoice): 'auto' | 'none' | 'required' | 'function' {
  return typeof choice === 'string' ? choice : 'function';
}

/** Checks a tool choice against what the provider can do: a clear 400 before the call. */
export function checkToolChoice(
  target: ChatTarget,
  choice: ChatToolChoice | undefined,
  allowed: ReadonlySet<string> | undefined,
): void {
  if (choice === undefined || allowed === undefined) return;
  const kind = choiceKind(choice);
  if (!allowed.has(kind)) {
    throw unsupportedByProvider(
      target.service,
      `tool_choice [${kind === 'function' ? 'a named function' : kind}]; it supports [${[...allowed].map((k) => (k === 'function' ? 'a named function' : k)).join(', ')}]`,
    );
  }
}

/** A message in OpenAI's wire form (content as given: a string or text parts). */
export function openAiMessage(m: ChatMessage, developerRole: boolean): Record<string, unknown> {
  switch (m.role) {
    case 'assistant': {
      const out: Record<string, unknown> = { role: 'assistant', content: m.content };
      if (m.tool_calls !== undefined)
        out.tool_calls = m.tool_calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.function.name, arguments: c.function.arguments },
        }));
      return out;
    }
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content };
    case 'developer':
      return { role: developerRole ? 'developer' : 'system', content: m.content };
    default:
      return { role: m.role, content: m.content };
  }
}

/**
 * OpenAI's chat-completions body for a chat request: the request passed through (messages,
 * tools, tool_choice, sampling), `stream: true`, and `stream_options.include_usage` where
 * the provider documents it. Used by every OpenAI-protocol service.
 */
export function openAiChatBody(
  req: ChatRequest,
  target: ChatTarget,
  options: OpenAiChatBodyOptions = {},
): Record<string, unknown> {
  checkToolChoice(target, req.tool_choice, options.toolChoices);
  const body: Record<string, unknown> = {};
  if ((options.model ?? true) && target.model !== undefined) body.model = target.model;
  const developer = options.developerRole ?? false;
  body.messages = req.messages.map((m) => openAiMessage(m, developer));
  if (req.max_completion_tokens !== undefined) body[options.maxTokensAs ?? 'max_tokens'] = req.max_completion_tokens;
  if (req.stop !== undefined) body.stop = req.stop;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  if (req.tools !== undefined) body.tools = req.tools;
  if (req.tool_choice !== undefined) body.tool_choice = req.tool_choice;
  body.stream = true;
  if (options.includeUsage) body.stream_options = { include_usage: true };
  return body;
}
