import { isObject } from '../../json.js';

/** Each provider's stop reasons, as OpenAI names them (`stop`, `length`, `tool_calls`, `content_filter`). */
const FINISH = new Map<string, string>([
  // OpenAI and its followers
  ['stop', 'stop'],
  ['length', 'length'],
  ['tool_calls', 'tool_calls'],
  ['function_call', 'tool_calls'],
  ['content_filter', 'content_filter'],
  // Anthropic
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['pause_turn', 'stop'],
  ['max_tokens', 'length'],
  ['model_context_window_exceeded', 'length'],
  ['tool_use', 'tool_calls'],
  ['refusal', 'content_filter'],
  // Gemini (upper case on the wire; compared lower-cased)
  ['finish_reason_unspecified', 'stop'],
  ['safety', 'content_filter'],
  ['recitation', 'content_filter'],
  ['blocklist', 'content_filter'],
  ['prohibited_content', 'content_filter'],
  ['spii', 'content_filter'],
  ['image_safety', 'content_filter'],
  // Bedrock
  ['guardrail_intervened', 'content_filter'],
  ['content_filtered', 'content_filter'],
  // Cohere v2
  ['complete', 'stop'],
  ['tool_call', 'tool_calls'],
  // TGI / watsonx / Ollama
  ['eos_token', 'stop'],
  ['max_new_tokens', 'length'],
  ['time_limit', 'length'],
  ['token_limit', 'length'],
]);

/**
 * OpenAI's finish reason for a provider's. An answer that made tool calls and then
 * stopped normally finished with `tool_calls` (Gemini says `STOP` after `functionCall`
 * parts, Ollama `stop`), as Google's own OpenAI-compatible layer reports it. A reason
 * with no OpenAI counterpart is passed on lower-cased.
 */
export function openAiFinishReason(reason: string, madeToolCalls: boolean): string {
  const lower = reason.toLowerCase();
  const mapped = FINISH.get(lower) ?? lower;
  return mapped === 'stop' && madeToolCalls ? 'tool_calls' : mapped;
}

/** Token counts as the `chat_completion` chunk carries them. */
export interface ChatUsage {
  completion_tokens: number;
  prompt_tokens: number;
  total_tokens: number;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * Folds one provider usage object into `into` (later reports win, counts missing from a
 * report are kept): OpenAI (`prompt_tokens`, `completion_tokens`), Anthropic and Cohere v2
 * (`input_tokens`, `output_tokens`, Cohere under `tokens`), Gemini `usageMetadata`
 * (`promptTokenCount`, `candidatesTokenCount`, `thoughtsTokenCount`), Bedrock
 * (`inputTokens`, `outputTokens`), Ollama (`prompt_eval_count`, `eval_count`).
 */
export function foldUsage(into: Partial<ChatUsage>, raw: Record<string, unknown>): void {
  const u = isObject(raw.tokens) ? raw.tokens : raw;
  const prompt =
    count(u.prompt_tokens) ??
    count(u.input_tokens) ??
    count(u.promptTokenCount) ??
    count(u.inputTokens) ??
    count(u.prompt_eval_count);
  let completion =
    count(u.completion_tokens) ??
    count(u.output_tokens) ??
    count(u.candidatesTokenCount) ??
    count(u.outputTokens) ??
    count(u.eval_count);
  const thoughts = count(u.thoughtsTokenCount);
  if (thoughts !== undefined) completion = (completion ?? 0) + thoughts;
  const total = count(u.total_tokens) ?? count(u.totalTokenCount) ?? count(u.totalTokens);
  if (prompt !== undefined) into.prompt_tokens = prompt;
  if (completion !== undefined) into.completion_tokens = completion;
  if (total !== undefined) into.total_tokens = total;
}

/** The usage a chunk carries, or undefined when the provider reported no counts. */
export function finalUsage(u: Partial<ChatUsage>): ChatUsage | undefined {
  if (u.prompt_tokens === undefined && u.completion_tokens === undefined && u.total_tokens === undefined)
    return undefined;
  const prompt = u.prompt_tokens ?? 0;
  const completion = u.completion_tokens ?? 0;
  return { completion_tokens: completion, prompt_tokens: prompt, total_tokens: u.total_tokens ?? prompt + completion };
}
