import { validationFailed } from '../../errors.js';
import type { ChatTarget } from './openai.js';
import { argumentsObject, partsOf, textOf, type ChatRequest } from './request.js';

type Part = Record<string, unknown>;

/** A tool message's content as Gemini's `functionResponse.response` (an object): JSON objects as they are, anything else under `content`. */
function responseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    return { content: parsed };
  } catch {
    return { content: text };
  }
}

/**
 * Gemini's `generateContent` body for a chat request (Google AI Studio and Vertex AI):
 * system and developer messages become `systemInstruction`; roles `user` / `model`;
 * assistant tool calls become `functionCall` parts (args as an object); tool messages
 * become `functionResponse` parts (named after the call they answer) in a user turn;
 * consecutive turns of one role are merged; tools become `functionDeclarations`;
 * `tool_choice` becomes `toolConfig.functionCallingConfig` (`AUTO`, `NONE`, `ANY`, or
 * `ANY` with `allowedFunctionNames`).
 */
export function geminiChatBody(req: ChatRequest, target: ChatTarget): Record<string, unknown> {
  const system: Part[] = [];
  const contents: { role: string; parts: Part[] }[] = [];
  const names = new Map<string, string>();
  const append = (role: 'user' | 'model', parts: Part[]) => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last !== undefined && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
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
        const parts: Part[] = partsOf(m.content).map((p) => ({ text: p.text }));
        for (const c of m.tool_calls ?? []) {
          names.set(c.id, c.function.name);
          parts.push({ functionCall: { name: c.function.name, args: argumentsObject(c) } });
        }
        append('model', parts);
        break;
      }
      case 'tool': {
        const name = names.get(m.tool_call_id);
        if (name === undefined) {
          throw validationFailed([
            `the tool message's [tool_call_id] [${m.tool_call_id}] answers no tool call of an earlier assistant message (the [${target.service}] service needs the function's name)`,
          ]);
        }
        append('user', [{ functionResponse: { name, response: responseObject(textOf(m.content)) } }]);
        break;
      }
    }
  }
  const body: Record<string, unknown> = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (req.tools !== undefined && req.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((t) => {
          const fn: Record<string, unknown> = { name: t.function.name };
          if (t.function.description !== undefined) fn.description = t.function.description;
          if (t.function.parameters !== undefined) fn.parameters = t.function.parameters;
          return fn;
        }),
      },
    ];
  }
  const choice = req.tool_choice;
  if (choice !== undefined) {
    const config: Record<string, unknown> =
      choice === 'auto'
        ? { mode: 'AUTO' }
        : choice === 'none'
          ? { mode: 'NONE' }
          : choice === 'required'
            ? { mode: 'ANY' }
            : { mode: 'ANY', allowedFunctionNames: [choice.function.name] };
    body.toolConfig = { functionCallingConfig: config };
  }
  const generationConfig: Record<string, unknown> = {};
  if (req.max_completion_tokens !== undefined) generationConfig.maxOutputTokens = req.max_completion_tokens;
  if (req.temperature !== undefined) generationConfig.temperature = req.temperature;
  if (req.top_p !== undefined) generationConfig.topP = req.top_p;
  if (req.stop !== undefined) generationConfig.stopSequences = req.stop;
  generationConfig.candidateCount = 1;
  body.generationConfig = generationConfig;
  return body;
}
