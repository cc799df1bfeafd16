import { checkToolChoice, type ChatTarget } from './openai.js';
import { textOf, type ChatRequest } from './request.js';

const COHERE_CHOICES = new Set(['auto', 'none', 'required'] as const);

/**
 * Cohere's v2 chat body for a chat request: OpenAI-like messages (developer becomes
 * system, tool messages keep `tool_call_id`), tools in OpenAI's form, `tool_choice`
 * `REQUIRED` / `NONE` (Cohere has no named choice: refused before the call; `auto` is its
 * default and is not sent), `p` for top_p, `stop_sequences`.
 */
export function cohereChatBody(req: ChatRequest, target: ChatTarget): Record<string, unknown> {
  checkToolChoice(target, req.tool_choice, COHERE_CHOICES);
  const body: Record<string, unknown> = {};
  if (target.model !== undefined) body.model = target.model;
  body.messages = req.messages.map((m) => {
    switch (m.role) {
      case 'assistant': {
        const out: Record<string, unknown> = { role: 'assistant' };
        if (m.content !== null) out.content = m.content;
        if (m.tool_calls !== undefined)
          out.tool_calls = m.tool_calls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.function.name, arguments: c.function.arguments },
          }));
        return out;
      }
      case 'tool':
        return { role: 'tool', tool_call_id: m.tool_call_id, content: textOf(m.content) };
      case 'developer':
        return { role: 'system', content: m.content };
      default:
        return { role: m.role, content: m.content };
    }
  });
  if (req.tools !== undefined && req.tools.length > 0) {
    body.tools = req.tools.map((t) => {
      const fn: Record<string, unknown> = { name: t.function.name };
      if (t.function.description !== undefined) fn.description = t.function.description;
      if (t.function.parameters !== undefined) fn.parameters = t.function.parameters;
      return { type: 'function', function: fn };
    });
  }
  if (req.tool_choice === 'required') body.tool_choice = 'REQUIRED';
  else if (req.tool_choice === 'none') body.tool_choice = 'NONE';
  if (req.max_completion_tokens !== undefined) body.max_tokens = req.max_completion_tokens;
  if (req.stop !== undefined) body.stop_sequences = req.stop;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.p = req.top_p;
  body.stream = true;
  return body;
}
