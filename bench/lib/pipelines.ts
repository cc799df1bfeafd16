import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { createEventSourceResponseHandler, jsonSchema } from '@ai-sdk/provider-utils';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import split2 from 'split2';
import { z } from 'zod';
import { completionStream, deltaStream, type ProviderId } from '../../lib/index.js';

/** What one pass over a generated stream produced, to check every contender did the same work. */
export interface RunResult {
  outBytes: number;
  deltas: number;
  /** Output text, only when asked for (validation runs). */
  text?: string;
}

/** A source that hands over exactly the given reads, one per `_read` turn as a socket would. */
export function nodeSource(chunks: readonly Buffer[]): Readable {
  let i = 0;
  return new Readable({
    objectMode: true, // keeps read boundaries exactly as given
    highWaterMark: 16,
    read() {
      while (i < chunks.length) {
        if (!this.push(chunks[i++])) return;
      }
      this.push(null);
    },
  });
}

/** The same as a WHATWG ReadableStream (what `fetch` gives the AI SDK). */
export function webSource(chunks: readonly Buffer[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

function drainBytes(stream: Readable, keep: boolean): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let outBytes = 0;
    const parts: Buffer[] = [];
    stream.on('data', (chunk: Buffer | string) => {
      outBytes += chunk.length;
      if (keep) parts.push(Buffer.from(chunk));
    });
    stream.once('end', () => {
      const text = keep ? Buffer.concat(parts).toString('utf8') : undefined;
      resolve({ outBytes, deltas: text ? countCompletionDeltas(text) : -1, text });
    });
    stream.once('error', reject);
  });
}

/** Deltas inside Elasticsearch `completion` events (the generated texts never contain this marker). */
export function countCompletionDeltas(sse: string): number {
  let n = 0;
  let i = -1;
  while ((i = sse.indexOf('{"delta":', i + 1)) !== -1) n++;
  return n;
}

// ---------------------------------------------------------------- ours

export function oursCompletion(provider: ProviderId, contentType: string, chunks: readonly Buffer[], keep = false): Promise<RunResult> {
  const out = nodeSource(chunks).pipe(completionStream(provider, { contentType }));
  return drainBytes(out, keep);
}

export function oursDeltas(provider: ProviderId, contentType: string, chunks: readonly Buffer[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let deltas = 0;
    const out = nodeSource(chunks).pipe(deltaStream(provider, { contentType }));
    out.on('data', (d: { delta?: string }) => {
      if (typeof d.delta === 'string') deltas++;
    });
    out.once('end', () => resolve({ outBytes: 0, deltas }));
    out.once('error', reject);
  });
}

// ---------------------------------------------------------------- floors

/** The same reads through one PassThrough: what any Transform-based pipeline pays before doing any work. */
export function passThrough(chunks: readonly Buffer[]): Promise<RunResult> {
  return drainBytes(nodeSource(chunks).pipe(new PassThrough()), false);
}


/** Only JSON.parse of every event's payload, pre-split: no framing, no streams. */
export function floor(payloads: readonly string[]): RunResult {
  let keep = 0;
  for (let i = 0; i < payloads.length; i++) if (JSON.parse(payloads[i]!) !== null) keep++;
  return { outBytes: 0, deltas: keep };
}

// ---------------------------------------------------------------- hand-written

function sseEvent(text: string): string {
  return 'event: message\ndata: ' + JSON.stringify({ completion: [{ delta: text }] }) + '\n\n';
}

type TextOf = (json: any, event: string | undefined) => string | undefined;

export const openAiText: TextOf = (json) => json?.choices?.[0]?.delta?.content || undefined;
export const anthropicText: TextOf = (json, event) =>
  event === 'content_block_delta' && json?.delta?.type === 'text_delta' ? json.delta.text || undefined : undefined;
export const ollamaText: TextOf = (json) => json?.message?.content || undefined;
export const cohereText: TextOf = (json) => (json?.event_type === 'text-generation' ? json.text || undefined : undefined);

/**
 * What users write today: eventsource-parser fed through a TextDecoder, JSON.parse of
 * every data field, JSON.stringify of the answer text, pushed from a Transform.
 */
class HandWrittenSse extends Transform {
  private readonly decoder = new TextDecoder();
  private readonly parser = createParser({ onEvent: (e: EventSourceMessage) => this.onEvent(e) });
  constructor(private readonly textOf: TextOf) {
    super();
  }
  private onEvent(e: EventSourceMessage): void {
    if (e.data === '[DONE]') return;
    const text = this.textOf(JSON.parse(e.data), e.event);
    if (text) this.push(sseEvent(text));
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.parser.feed(this.decoder.decode(chunk, { stream: true }));
    } catch (err) {
      return cb(err as Error);
    }
    cb();
  }
  override _flush(cb: TransformCallback): void {
    this.push('event: message\ndata: [DONE]\n\n');
    cb();
  }
}

export function handWrittenSse(textOf: TextOf, chunks: readonly Buffer[], keep = false): Promise<RunResult> {
  return drainBytes(nodeSource(chunks).pipe(new HandWrittenSse(textOf)), keep);
}

/** NDJSON the usual way: split2(JSON.parse) then an object-mode Transform writing SSE. */
export function handWrittenNdjson(textOf: TextOf, chunks: readonly Buffer[], keep = false): Promise<RunResult> {
  const toSse = new Transform({
    writableObjectMode: true,
    transform(json: unknown, _enc, cb) {
      const text = textOf(json, undefined);
      cb(null, text ? sseEvent(text) : undefined);
    },
    flush(cb) {
      cb(null, 'event: message\ndata: [DONE]\n\n');
    },
  });
  return drainBytes(nodeSource(chunks).pipe(split2(JSON.parse)).pipe(toSse), keep);
}

// ---------------------------------------------------------------- Vercel AI SDK

/** No validation: the AI SDK's parse path at its cheapest. */
const anySchema = jsonSchema<any>({});

/** Roughly the chunk schema @ai-sdk/openai validates every chunk with (zod), for the realistic cost. */
const openAiChunkSchema = z.union([
  z.object({
    id: z.string().nullish(),
    created: z.number().nullish(),
    model: z.string().nullish(),
    choices: z.array(
      z.object({
        delta: z
          .object({
            role: z.enum(['assistant']).nullish(),
            content: z.string().nullish(),
            tool_calls: z.array(z.object({ index: z.number(), id: z.string().nullish() })).nullish(),
          })
          .nullish(),
        logprobs: z.any().nullish(),
        finish_reason: z.string().nullish(),
        index: z.number(),
      }),
    ),
    usage: z.object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish(),
  }),
  z.object({ error: z.object({ message: z.string(), type: z.string().nullish() }) }),
]);

/**
 * `createEventSourceResponseHandler` over a fetch-style Response: TextDecoderStream ->
 * EventSourceParserStream -> JSON parse (+ schema) per event, then the answer text taken.
 */
export async function aiSdk(textOf: TextOf, chunks: readonly Buffer[], contentType: string, validate: boolean): Promise<RunResult> {
  const response = new Response(webSource(chunks), { headers: { 'content-type': contentType } });
  const handler = createEventSourceResponseHandler(validate ? openAiChunkSchema : anySchema);
  const { value } = await handler({ response, url: 'http://127.0.0.1/v1/chat/completions', requestBodyValues: {} });
  let deltas = 0;
  const reader = value.getReader();
  for (;;) {
    const { done, value: parsed } = await reader.read();
    if (done) break;
    if (!parsed.success) throw parsed.error;
    // The SDK drops SSE event names; Anthropic's `type` field carries the same name.
    const json = parsed.value as any;
    if (textOf(json, json?.type)) deltas++;
  }
  return { outBytes: 0, deltas };
}
