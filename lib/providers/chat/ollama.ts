import { checkToolChoice, type ChatTarget } from './openai.js';
import { argumentsObject, textOf, type ChatRequest } from './request.js';

const OLLAMA_CHOICES = new Set(['auto'] as const);

/**
 * Ollama's `/api/chat` body for a chat request: messages with string content (developer
 * becomes system), assistant `tool_calls` with arguments as an object, tool messages
 * with `tool_name` (the function they answer) when it is known, OpenAI-form `tools`,
 * sampling under `options` (`num_predict`, `temperature`, `top_p`, `stop`). Ollama has no
 * tool choice: anything but `auto` is refused before the call.
 */
export function ollamaChatBody(req: ChatRequest, target: ChatTarget): Record<string, unknown> {
  checkToolChoice(target, req.tool_choice, OLLAMA_CHOICES);
  const names = new Map<string, string>();
  const messages = req.messages.map((m) => {
    switch (m.role) {
      case 'assistant': {
        const out: Record<string, unknown> = { role: 'assistant', content: textOf(m.content) };
        if (m.tool_calls !== undefined) {
          out.tool_calls = m.tool_calls.map((c) => {
            names.set(c.id, c.function.name);
            return { function: { name: c.function.name, arguments: argumentsObject(c) } };
          });
        }
        return out;
      }
      case 'tool': {
        const out: Record<string, unknown> = { role: 'tool', content: textOf(m.content) };
        const name = names.get(m.tool_call_id);
        if (name !== undefined) out.tool_name = name;
        return out;
      }
      case 'developer':
        return { role: 'system', content: textOf(m.content) };
      default:
        return { role: m.role, content: textOf(m.content) };
    }
  });
  const body: Record<string, unknown> = {};
  if (target.model !== undefined) body.model = target.model;
  body.messages = messages;
  if (req.tools !== undefined && req.tools.length > 0)
    body.tools = req.tools.map((t) => ({ type: 'function', function: t.function }));
  body.stream = true;
  const options: Record<string, unknown> = {};
  if (req.max_completion_tokens !== undefined) options.num_predict = req.max_completion_tokens;
  if (req.temperature !== undefined) options.temperature = req.temperature;
  if (req.top_p !== undefined) options.top_p = req.top_p;
  if (req.stop !== undefined) options.stop = req.stop;
  if (Object.keys(options).length > 0) body.options = options;
  return body;
}
