import { checkToolChoice, openAiMessage, type ChatTarget } from './openai.js';
import type { ChatRequest } from './request.js';

/**
 * watsonx.ai's `text/chat_stream` body for a chat request: `model_id` and `project_id`,
 * OpenAI-form messages and tools (developer becomes system), `tool_choice_option`
 * (`auto`, `none`, `required`) or `tool_choice` for a named function, `max_tokens`.
 */
export function watsonxChatBody(
  req: ChatRequest,
  target: ChatTarget,
  projectId: string | undefined,
): Record<string, unknown> {
  checkToolChoice(target, req.tool_choice, undefined);
  const body: Record<string, unknown> = {};
  if (target.model !== undefined) body.model_id = target.model;
  if (projectId !== undefined) body.project_id = projectId;
  body.messages = req.messages.map((m) => openAiMessage(m, false));
  if (req.tools !== undefined && req.tools.length > 0) body.tools = req.tools;
  const choice = req.tool_choice;
  if (typeof choice === 'string') body.tool_choice_option = choice;
  else if (choice !== undefined) body.tool_choice = choice;
  if (req.max_completion_tokens !== undefined) body.max_tokens = req.max_completion_tokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  if (req.stop !== undefined) body.stop = req.stop;
  return body;
}
