import { errorEventWithoutMessage, malformedEvent } from '../errors.js';
import { isObject } from '../json.js';
import type { Frame } from '../framing/frame.js';
import type { DeltaObject } from './types.js';

/** JSON.parse for one event's payload: a malformed payload is a typed error, never a crash. */
export function parseEventJson(frame: Frame): unknown {
  if (frame.value !== undefined) return frame.value;
  try {
    return JSON.parse(frame.data);
  } catch (err) {
    throw malformedEvent(describe(frame.data), err);
  }
}

/** Several JSON values from one SSE event, one complete value on each of its `data:` lines. */
export class JsonLines {
  constructor(readonly values: unknown[]) {}
}

/**
 * JSON.parse for one event's payload, where a provider may put one complete JSON value
 * on each of several `data:` lines of one event (Anthropic, Gemini, Vertex AI, as
 * Elasticsearch reads them): when the whole does not parse but every line does, the
 * values come back as JsonLines, in order. Anything else malformed is a typed error.
 */
export function parseEventJsonLines(frame: Frame): unknown {
  if (frame.value !== undefined) return frame.value;
  const data = frame.data;
  try {
    return JSON.parse(data);
  } catch (err) {
    if (data.indexOf('\n') !== -1) {
      const values: unknown[] = [];
      for (const line of data.split('\n')) {
        if (line.trim() === '') continue;
        try {
          values.push(JSON.parse(line));
        } catch {
          throw malformedEvent(describe(data), err);
        }
      }
      if (values.length > 0) return new JsonLines(values);
    }
    throw malformedEvent(describe(data), err);
  }
}

/** A short, safe excerpt of bad input for an error message. */
export function describe(text: string): string {
  const max = 120;
  const cut = text.length > max ? text.slice(0, max) + '…' : text;
  return `[${cut}]`;
}

/** The value when it is a string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Appends answer text, keeping whitespace-only text and dropping only the empty string. */
export function pushText(out: DeltaObject[], text: unknown): void {
  if (typeof text === 'string' && text.length > 0) out.push({ delta: text });
}

/** Appends reasoning text, dropping only the empty string. */
export function pushReasoning(out: DeltaObject[], text: unknown): void {
  if (typeof text === 'string' && text.length > 0) out.push({ reasoning: text });
}

/** Appends a finish reason when there is one. */
export function pushFinish(out: DeltaObject[], reason: unknown): void {
  if (typeof reason === 'string' && reason.length > 0) out.push({ finish_reason: reason });
}

/** Appends a usage object when there is one. */
export function pushUsage(out: DeltaObject[], usage: unknown): void {
  if (isObject(usage)) out.push({ usage });
}

/** The reason for an error event whose payload carries no message (`null`, a number, `{}`). */
export function noMessage(provider: string, data: string): string {
  return errorEventWithoutMessage(provider, describe(data));
}

/** HTTP status for a provider's error type or code word (rate_limit_error, invalid_request_error, …). */
export function statusForErrorWord(word: unknown, fallback = 500): number {
  if (typeof word === 'number' && word >= 400 && word <= 599) return word;
  if (typeof word !== 'string') return fallback;
  const w = word.toLowerCase();
  if (/^\d{3}$/.test(w)) return Number(w);
  if (w.includes('rate_limit') || w.includes('throttl') || w.includes('quota') || w.includes('too_many')) return 429;
  if (w.includes('overload') || w.includes('unavailable') || w.includes('busy')) return 503;
  if (w.includes('authentication') || w.includes('unauthenticated') || w.includes('invalid_api_key')) return 401;
  if (w.includes('permission') || w.includes('forbidden') || w.includes('access_denied')) return 403;
  if (w.includes('not_found')) return 404;
  if (w.includes('too_large')) return 413;
  if (
    w.includes('invalid_request') ||
    w.includes('validation') ||
    w.includes('invalid_argument') ||
    w.includes('bad_request')
  )
    return 400;
  if (w.includes('timeout') || w.includes('deadline')) return 504;
  return fallback;
}

/**
 * The message in the usual error body shapes: `{"error":{"message"}}` (OpenAI, Azure,
 * Google, Anthropic, Hugging Face), `{"error":"…"}` (Ollama, TGI), `{"errors":[{"message"}]}`
 * (watsonx), `{"message"}` (Bedrock, Cohere, DashScope), `{"detail"}` (FastAPI servers).
 */
export function genericErrorMessage(body: unknown): string | undefined {
  if (Array.isArray(body)) return body.length > 0 ? genericErrorMessage(body[0]) : undefined;
  if (typeof body === 'string') return body.trim() ? body.trim().slice(0, 2000) : undefined;
  if (!isObject(body)) return undefined;
  const error = body.error;
  if (typeof error === 'string') return error;
  if (isObject(error)) {
    const m = str(error.message) ?? str(error.msg);
    if (m) return m;
  }
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    const first = body.errors[0];
    if (isObject(first) && typeof first.message === 'string') return first.message;
    if (typeof first === 'string') return first;
  }
  const direct = str(body.message) ?? str(body.Message) ?? str(body.error_message);
  if (direct) return direct;
  // Mistral validation errors: {"object":"error","message":{"detail":[{"msg"}]}}
  if (isObject(body.message)) return genericErrorMessage(body.message);
  if (typeof body.detail === 'string') return body.detail;
  if (Array.isArray(body.detail) && isObject(body.detail[0]) && typeof body.detail[0].msg === 'string')
    return body.detail[0].msg;
  return undefined;
}
