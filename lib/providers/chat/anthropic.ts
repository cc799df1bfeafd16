import type { ChatTarget } from './openai.js';
import { argumentsObject, partsOf, textOf, type ChatRequest } from './request.js';

type Block = Record<string, unknown>;

/** Appends blocks to the last message when it has the same role (Anthropic alternates user and assistant turns). */
function append(messages: { role: string; content: Block[] }[], role: 'user' | 'assistant', blocks: Block[]): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  if (last !== undefined && last.role === role) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

/**
 * Anthropic's Messages body for a chat request: system and developer messages become the
 * top-level `system`; assistant tool calls become `tool_use` blocks (input as an object);
 * tool messages become `tool_result` blocks in a user turn; consecutive turns of one role
 * are merged; tools take `input_schema`; `tool_choice` becomes `auto` / `none` / `any` /
 * `tool`; `max_tokens` is required (the request's `max_completion_tokens`, else the
 * endpoint's `max_tokens`, else 1024). Also the body of Anthropic models behind Vertex AI
 * and Bedrock's InvokeModel, less `model` and `stream`.
 */
export function anthropicChatBody(
  req: ChatRequest,
  target: ChatTarget,
  taskSettings: Record<string, unknown>,
): Record<string, unknown> {
  const system: string[] = [];
  const messages: { role: string; content: Block[] }[] = [];
  for (const m of req.messages) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content));
        break;
      case 'user':
        append(
          messages,
          'user',
          partsOf(m.content).map((p) => ({ type: 'text', text: p.text })),
        );
        break;
      case 'assistant': {
        const blocks: Block[] = partsOf(m.content).map((p) => ({ type: 'text', text: p.text }));
        for (const c of m.tool_calls ?? [])
          blocks.push({ type: 'tool_use', id: c.id, name: c.function.name, input: argumentsObject(c) });
        append(messages, 'assistant', blocks);
        break;
      }
      case 'tool':
        append(messages, 'user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content) }]);
        break;
    }
  }
  const body: Record<string, unknown> = {};
  if (target.model !== undefined) body.model = target.model;
  body.max_tokens =
    req.max_completion_tokens ?? (typeof taskSettings.max_tokens === 'number' ? taskSettings.max_tokens : 1024);
  if (system.length > 0) body.system = system.join('\n\n');
  body.messages = messages;
  if (req.stop !== undefined) body.stop_sequences = req.stop;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  if (req.tools !== undefined && req.tools.length > 0) {
    body.tools = req.tools.map((t) => {
      const tool: Record<string, unknown> = { name: t.function.name };
      if (t.function.description !== undefined) tool.description = t.function.description;
      tool.input_schema = t.function.parameters ?? { type: 'object', properties: {} };
      return tool;
    });
  }
  const choice = req.tool_choice;
  if (choice !== undefined) {
    if (choice === 'auto') body.tool_choice = { type: 'auto' };
    else if (choice === 'none') body.tool_choice = { type: 'none' };
    else if (choice === 'required') body.tool_choice = { type: 'any' };
    else body.tool_choice = { type: 'tool', name: choice.function.name };
  }
  body.stream = true;
  return body;
}
