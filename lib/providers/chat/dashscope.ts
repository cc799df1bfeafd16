import { checkToolChoice, openAiMessage, type ChatTarget } from './openai.js';
import type { ChatRequest } from './request.js';

const DASHSCOPE_CHOICES = new Set(['auto', 'none', 'function'] as const);

/**
 * DashScope's native text-generation body for a chat request: `input.messages` in
 * OpenAI's form (developer becomes system), `parameters` with `result_format: message`,
 * `incremental_output: true`, OpenAI-form `tools` and `tool_choice` (`auto`, `none` or a
 * named function; DashScope has no `required`: refused before the call).
 */
export function dashscopeChatBody(req: ChatRequest, target: ChatTarget): Record<string, unknown> {
  checkToolChoice(target, req.tool_choice, DASHSCOPE_CHOICES);
  const parameters: Record<string, unknown> = { result_format: 'message', incremental_output: true };
  if (req.tools !== undefined && req.tools.length > 0) parameters.tools = req.tools;
  if (req.tool_choice !== undefined) parameters.tool_choice = req.tool_choice;
  if (req.max_completion_tokens !== undefined) parameters.max_tokens = req.max_completion_tokens;
  if (req.temperature !== undefined) parameters.temperature = req.temperature;
  if (req.top_p !== undefined) parameters.top_p = req.top_p;
  if (req.stop !== undefined) parameters.stop = req.stop;
  const body: Record<string, unknown> = {};
  if (target.model !== undefined) body.model = target.model;
  body.input = { messages: req.messages.map((m) => openAiMessage(m, false)) };
  body.parameters = parameters;
  return body;
}
