import { checkToolChoice, type ChatTarget } from './openai.js';
import { argumentsObject, partsOf, textOf, type ChatRequest } from './request.js';

type Block = Record<string, unknown>;

const BEDROCK_CHOICES = new Set(['auto', 'required', 'function'] as const);

/** A tool message's content as a Converse `toolResult` block: `json` for a JSON object, else `text`. */
function resultContent(text: string): Block[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return [{ json: parsed }];
  } catch {
    // plain text
  }
  return [{ text }];
}

/**
 * Bedrock ConverseStream's body for a chat request: system and developer messages become
 * `system`; assistant tool calls become `toolUse` blocks, tool messages `toolResult`
 * blocks in a user turn; consecutive turns of one role are merged; tools go under
 * `toolConfig.tools[].toolSpec` (`inputSchema.json`), `tool_choice` becomes `auto` /
 * `any` / `tool`. Converse has no "none": that choice is refused before the call.
 */
export function bedrockChatBody(
  req: ChatRequest,
  target: ChatTarget,
  taskSettings: Record<string, unknown>,
): Record<string, unknown> {
  checkToolChoice(target, req.tool_choice, BEDROCK_CHOICES);
  const system: Block[] = [];
  const messages: { role: string; content: Block[] }[] = [];
  const append = (role: 'user' | 'assistant', blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const m of req.messages) {
    switch (m.role) {
      case 'system':
      case 'developer':
        for (const p of partsOf(m.content)) system.push({ text: p.text });
        break;
      case 'user':
        append(
          'user',
          partsOf(m.content).map((p) => ({ text: p.text })),
        );
        break;
      case 'assistant': {
        const blocks: Block[] = partsOf(m.content).map((p) => ({ text: p.text }));
        for (const c of m.tool_calls ?? [])
          blocks.push({ toolUse: { toolUseId: c.id, name: c.function.name, input: argumentsObject(c) } });
        append('assistant', blocks);
        break;
      }
      case 'tool':
        append('user', [{ toolResult: { toolUseId: m.tool_call_id, content: resultContent(textOf(m.content)) } }]);
        break;
    }
  }
  const body: Record<string, unknown> = { messages };
  if (system.length > 0) body.system = system;
  const inferenceConfig: Record<string, unknown> = {};
  const maxTokens = req.max_completion_tokens ?? taskSettings.max_new_tokens ?? taskSettings.max_tokens;
  if (maxTokens !== undefined) inferenceConfig.maxTokens = maxTokens;
  if (req.temperature !== undefined) inferenceConfig.temperature = req.temperature;
  if (req.top_p !== undefined) inferenceConfig.topP = req.top_p;
  if (req.stop !== undefined) inferenceConfig.stopSequences = req.stop;
  if (Object.keys(inferenceConfig).length > 0) body.inferenceConfig = inferenceConfig;
  if (req.tools !== undefined && req.tools.length > 0) {
    const toolConfig: Record<string, unknown> = {
      tools: req.tools.map((t) => {
        const spec: Record<string, unknown> = { name: t.function.name };
        if (t.function.description !== undefined) spec.description = t.function.description;
        spec.inputSchema = { json: t.function.parameters ?? { type: 'object', properties: {} } };
        return { toolSpec: spec };
      }),
    };
    const choice = req.tool_choice;
    if (choice === 'auto') toolConfig.toolChoice = { auto: {} };
    else if (choice === 'required') toolConfig.toolChoice = { any: {} };
    else if (typeof choice === 'object') toolConfig.toolChoice = { tool: { name: choice.function.name } };
    body.toolConfig = toolConfig;
  }
  return body;
}
