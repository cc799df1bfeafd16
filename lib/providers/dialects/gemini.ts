import { incompleteStream, providerStreamError } from '../../errors.js';
import type { Frame } from '../../framing/frame.js';
import {
  JsonLines,
  parseEventJsonLines,
  pushFinish,
  pushReasoning,
  pushText,
  pushUsage,
  statusForErrorWord,
  str,
} from '../common.js';
import { isObject, type Json } from '../../json.js';
import { mapSettings } from '../settings.js';
import type { DeltaObject, EventNormalizer, RequestInput } from '../types.js';
import { ToolCalls } from '../tool-calls.js';
import { ShapeCache } from '../shape-cache.js';

/** usageMetadata's counts, which grow from chunk to chunk (the envelope cache reads them as counts). */
const USAGE_COUNTS = [
  '"promptTokenCount":',
  '"candidatesTokenCount":',
  '"totalTokenCount":',
  '"thoughtsTokenCount":',
  '"cachedContentTokenCount":',
  '"toolUsePromptTokenCount":',
  '"tokenCount":',
];

/**
 * Gemini `streamGenerateContent` responses (Google AI Studio and Vertex AI), from any
 * framing: SSE events (`alt=sse`), elements of a streamed JSON array, or raw JSON that
 * Vertex AI writes into an SSE stream. Only candidate 0 is the answer; `thought: true`
 * parts are reasoning. There is no end marker: the end of input after at least one chunk
 * is a clean end.
 *
 * `finishReason` and `usageMetadata` are held and emitted once, at the end: usage is
 * cumulative and repeated on every chunk, so emitting each copy would report the tokens
 * several times over to anyone who adds them up.
 */
export class GeminiStream {
  private chunks = 0;
  private readonly tools = new ToolCalls();
  private finishReason: string | undefined;
  private usage: unknown;

  constructor(private readonly provider: string) {}

  /** One parsed value: a GenerateContentResponse, an error object, or an array of them. */
  value(json: unknown, out: DeltaObject[]): void {
    if (Array.isArray(json)) {
      for (const element of json) this.value(element, out);
      return;
    }
    if (!isObject(json)) return;
    if (json.error !== undefined && json.error !== null) throw geminiError(this.provider, json.error);
    if (this.chunks++ === 0) {
      const role: { role: 'assistant'; id?: string; model?: string } = { role: 'assistant' };
      if (typeof json.responseId === 'string' && json.responseId.length > 0) role.id = json.responseId;
      if (typeof json.modelVersion === 'string' && json.modelVersion.length > 0) role.model = json.modelVersion;
      out.push(role);
    }
    const candidates = json.candidates;
    let answered = false;
    if (Array.isArray(candidates)) {
      for (let i = 0; i < candidates.length; i++) {
        const candidate = candidates[i];
        if (!isObject(candidate)) continue;
        if ((typeof candidate.index === 'number' ? candidate.index : i) !== 0) continue;
        answered = true;
        const content = candidate.content;
        if (isObject(content) && Array.isArray(content.parts)) {
          for (const part of content.parts) {
            if (!isObject(part)) continue;
            if (part.thought === true) pushReasoning(out, part.text);
            else if (isObject(part.functionCall)) this.functionCall(part.functionCall, out);
            else pushText(out, part.text); // empty text with only a thoughtSignature yields nothing
          }
        }
        const reason = str(candidate.finishReason);
        if (reason) this.finishReason = reason;
      }
    }
    if (!answered && isObject(json.promptFeedback)) {
      const blocked = str(json.promptFeedback.blockReason);
      if (blocked) {
        const detail = str(json.promptFeedback.blockReasonMessage);
        throw providerStreamError(
          this.provider,
          `The prompt was blocked: [${blocked}]${detail ? ` ${detail}` : ''}`,
          400,
        );
      }
    }
    this.usageOf(json);
  }

  /** Keeps the chunk's usage, the only thing read from a chunk the envelope cache read the text of. */
  usageOf(json: unknown): void {
    if (Array.isArray(json)) {
      for (const element of json) this.usageOf(element);
    } else if (isObject(json) && isObject(json.usageMetadata)) this.usage = json.usageMetadata;
  }

  /** A whole call in one part (several calls may share a chunk): arguments as compact JSON, an id generated when Gemini gives none. */
  private functionCall(call: Json, out: DeltaObject[]): void {
    if (typeof call.name !== 'string') return;
    const args = call.args === undefined || call.args === null ? {} : call.args;
    this.tools.whole(out, str(call.id), call.name, JSON.stringify(args));
  }

  /**
   * Gemini has no end marker: the end of input is the end, unless it came inside an SSE
   * event before any candidate said `finishReason`, which is a stream cut short.
   */
  end(out: DeltaObject[], truncated = false): void {
    if (this.chunks === 0) throw incompleteStream(`The [${this.provider}] stream ended before any response chunk`);
    if (truncated && this.finishReason === undefined) {
      throw incompleteStream(`The [${this.provider}] stream ended inside an unterminated event, before a finishReason`);
    }
    pushFinish(out, this.finishReason);
    pushUsage(out, this.usage);
  }
}

/** Gemini chunks from any framing (one frame = one value), for Google AI Studio. */
export class GeminiNormalizer implements EventNormalizer {
  private readonly stream: GeminiStream;
  /**
   * Text chunks repeat their envelope but for the text and the usage counts (function
   * calls are never read from it: their parts carry state).
   */
  readonly envelopeCache = new ShapeCache('"text":', undefined, false, ['"functionCall"'], USAGE_COUNTS);

  constructor(provider: string) {
    this.stream = new GeminiStream(provider);
  }

  frame(frame: Frame, out: DeltaObject[]): void {
    this.settle();
    if (this.envelopeCache.take(frame, out)) return;
    const before = out.length;
    const json = parseEventJsonLines(frame);
    if (json instanceof JsonLines) this.stream.value(json.values, out);
    else {
      this.stream.value(json, out);
      this.envelopeCache.observe(frame, out, before);
    }
  }

  end(out: DeltaObject[], truncated?: boolean): void {
    this.settle();
    this.stream.end(out, truncated);
  }

  /** The usage of the last chunk read from the envelope cache, kept as if that chunk had been read in full. */
  private settle(): void {
    const envelope = this.envelopeCache.settle();
    if (envelope !== undefined) this.stream.usageOf(JSON.parse(envelope));
  }
}

/** Google's `{"code":503,"message":…,"status":"UNAVAILABLE"}`: the code is an HTTP status. */
export function geminiError(provider: string, error: unknown) {
  if (typeof error === 'string') return providerStreamError(provider, error);
  if (!isObject(error)) return providerStreamError(provider, JSON.stringify(error));
  const message = str(error.message) || str(error.status) || JSON.stringify(error);
  return providerStreamError(provider, message, statusForErrorWord(error.code, statusForErrorWord(error.status)));
}

// ---------------------------------------------------------------------------------------
// Request half

/** Gemini's `generateContent` body for one user message. */
export function geminiBody(input: RequestInput): string {
  const generationConfig = mapSettings(input.taskSettings, {
    max_tokens: 'maxOutputTokens',
    temperature: 'temperature',
    top_p: 'topP',
    top_k: 'topK',
    stop: 'stopSequences',
  });
  generationConfig.candidateCount = 1;
  return JSON.stringify({ contents: [{ role: 'user', parts: [{ text: input.input }] }], generationConfig });
}
