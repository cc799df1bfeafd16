import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { createEventSourceResponseHandler, jsonSchema } from '@ai-sdk/provider-utils';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Stream as OpenAiStream } from 'openai/streaming';
import { z } from 'zod';
import { completionStream } from '../../lib/pipeline/completion-stream.js';
import { deltaStream } from '../../lib/pipeline/delta-stream.js';
import { EventStreamDecoder } from '../../lib/framing/event-stream.js';

/**
 * Every contender of the throughput tables. Each takes `bodies`: one or more provider
 * response bodies, each a list of reads, and runs them one after another (one pipeline
 * per body, as a server runs one per request). Each returns what it produced, so that a
 * validation pass can check every contender did the same work.
 */
export type Bodies = readonly (readonly Buffer[])[];

export interface RunResult {
  outBytes: number;
  /** Answer-text deltas written (or, for the floors, values parsed). */
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

/** The same as a WHATWG ReadableStream (what `fetch` gives the SDKs). */
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

async function eachBody(
  bodies: Bodies,
  keep: boolean,
  one: (chunks: readonly Buffer[], keep: boolean) => Promise<RunResult>,
): Promise<RunResult> {
  let outBytes = 0;
  let deltas = 0;
  let text = keep ? '' : undefined;
  for (const chunks of bodies) {
    const r = await one(chunks, keep);
    outBytes += r.outBytes;
    deltas += r.deltas;
    if (keep) text += r.text ?? '';
  }
  return { outBytes, deltas, text };
}

/** Deltas inside Elasticsearch `completion` events (the generated texts never contain this marker). */
export function countCompletionDeltas(sse: string): number {
  let n = 0;
  let i = -1;
  while ((i = sse.indexOf('{"delta":', i + 1)) !== -1) n++;
  return n;
}

/** Elasticsearch's event for a batch of answer texts, written the obvious way. */
function esEvent(texts: string[]): string {
  const completion = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) completion[i] = { delta: texts[i] };
  return 'event: message\ndata: ' + JSON.stringify({ completion }) + '\n\n';
}
const DONE = 'event: message\ndata: [DONE]\n\n';

// ---------------------------------------------------------------- ours

export function oursCompletion(
  provider: string,
  contentType: string,
  bodies: Bodies,
  keep = false,
): Promise<RunResult> {
  return eachBody(bodies, keep, (chunks, k) =>
    drainBytes(nodeSource(chunks).pipe(completionStream(provider as never, { contentType })), k),
  );
}

export function oursDeltas(provider: string, contentType: string, bodies: Bodies): Promise<RunResult> {
  return eachBody(
    bodies,
    false,
    (chunks) =>
      new Promise((resolve, reject) => {
        let deltas = 0;
        const out = nodeSource(chunks).pipe(deltaStream(provider as never, { contentType }));
        out.on('data', (d: { delta?: string }) => {
          if (typeof d.delta === 'string') deltas++;
        });
        out.once('end', () => resolve({ outBytes: 0, deltas }));
        out.once('error', reject);
      }),
  );
}

// ---------------------------------------------------------------- floors

/** The same reads through one PassThrough: what any Transform-based pipeline pays before doing any work. */
export function passThrough(bodies: Bodies): Promise<RunResult> {
  return eachBody(bodies, false, (chunks) => drainBytes(nodeSource(chunks).pipe(new PassThrough()), false));
}

/** The parse floor: only JSON.parse of every event's payload, pre-split and pre-decoded: no framing, no streams, no output. */
export function floor(payloads: readonly string[]): RunResult {
  let keep = 0;
  for (let i = 0; i < payloads.length; i++) if (JSON.parse(payloads[i]!) !== null) keep++;
  return { outBytes: 0, deltas: keep };
}

const smithy = new EventStreamCodec(
  (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text: string) => Buffer.from(text, 'utf8'),
);

/** Smithy's EventStreamCodec.decode alone on pre-split AWS frames (headers, both CRCs, body view): no JSON. */
export function smithyDecodeOnly(frames: readonly Buffer[]): RunResult {
  let n = 0;
  for (let i = 0; i < frames.length; i++) if (smithy.decode(frames[i]!).body.byteLength >= 0) n++;
  return { outBytes: 0, deltas: n };
}

/**
 * Our AWS event-stream reader alone on the same pre-split frames: prelude, both CRCs, the
 * headers walked, and (more than the row above does) the payload decoded to text; no JSON.
 */
export function leanDecodeOnly(frames: readonly Buffer[]): RunResult {
  const reader = new EventStreamDecoder();
  let n = 0;
  const sink = (): void => {
    n++;
  };
  for (let i = 0; i < frames.length; i++) reader.write(frames[i]!, sink);
  reader.end(sink);
  return { outBytes: 0, deltas: n };
}

// ---------------------------------------------------------------- hand-written

type TextOf = (json: any, event: string | undefined) => string | undefined;

export const openAiText: TextOf = (json) => json?.choices?.[0]?.delta?.content || undefined;
export const anthropicText: TextOf = (json, event) =>
  (event ?? json?.type) === 'content_block_delta' && json?.delta?.type === 'text_delta'
    ? json.delta.text || undefined
    : undefined;
export const ollamaText: TextOf = (json) => json?.message?.content || undefined;
export const cohereText: TextOf = (json) =>
  json?.event_type === 'text-generation' ? json.text || undefined : undefined;
export const bedrockText: TextOf = (json, event) =>
  event === 'contentBlockDelta' ? json?.delta?.text || undefined : undefined;

/**
 * What users write today, batching per read as Elasticsearch does: eventsource-parser fed
 * through a TextDecoder, JSON.parse of every data field, the read's answer texts written
 * as one `completion` event with JSON.stringify, pushed from a Transform.
 */
class HandWrittenSse extends Transform {
  private readonly decoder = new TextDecoder();
  private readonly parser = createParser({ onEvent: (e: EventSourceMessage) => this.onEvent(e) });
  private texts: string[] = [];
  constructor(private readonly textOf: TextOf) {
    super();
  }
  private onEvent(e: EventSourceMessage): void {
    if (e.data === '[DONE]') return;
    const text = this.textOf(JSON.parse(e.data), e.event);
    if (text) this.texts.push(text);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.parser.feed(this.decoder.decode(chunk, { stream: true }));
    } catch (err) {
      return cb(err as Error);
    }
    if (this.texts.length > 0) {
      this.push(esEvent(this.texts));
      this.texts = [];
    }
    cb();
  }
  override _flush(cb: TransformCallback): void {
    this.push(DONE);
    cb();
  }
}

export function handWrittenSse(textOf: TextOf, bodies: Bodies, keep = false): Promise<RunResult> {
  return eachBody(bodies, keep, (chunks, k) => drainBytes(nodeSource(chunks).pipe(new HandWrittenSse(textOf)), k));
}

/**
 * NDJSON by hand, batching per read: a TextDecoder, split on `\n` with the unfinished
 * line carried to the next read, JSON.parse per line. (split2 cannot batch per read: it
 * pushes one object per line and the next stage never sees the read boundaries.)
 */
class HandWrittenNdjson extends Transform {
  private readonly decoder = new TextDecoder();
  private rest = '';
  constructor(private readonly textOf: TextOf) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const lines = (this.rest + this.decoder.decode(chunk, { stream: true })).split('\n');
    this.rest = lines.pop()!;
    const texts: string[] = [];
    try {
      for (const line of lines) {
        if (line.trim() === '') continue;
        const text = this.textOf(JSON.parse(line), undefined);
        if (text) texts.push(text);
      }
    } catch (err) {
      return cb(err as Error);
    }
    if (texts.length > 0) this.push(esEvent(texts));
    cb();
  }
  override _flush(cb: TransformCallback): void {
    if (this.rest.trim() !== '') {
      const text = this.textOf(JSON.parse(this.rest), undefined);
      if (text) this.push(esEvent([text]));
    }
    this.push(DONE);
    cb();
  }
}

export function handWrittenNdjson(textOf: TextOf, bodies: Bodies, keep = false): Promise<RunResult> {
  return eachBody(bodies, keep, (chunks, k) => drainBytes(nodeSource(chunks).pipe(new HandWrittenNdjson(textOf)), k));
}

/**
 * Bedrock by hand, as the AI SDK's Bedrock provider reads it: frames collected in a
 * growing buffer, each decoded with Smithy's EventStreamCodec (both CRCs, headers), the
 * body decoded and JSON.parsed; the read's answer texts written as one event.
 */
class HandWrittenBedrock extends Transform {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly decoder = new TextDecoder();
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let buf = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const texts: string[] = [];
    try {
      while (buf.length >= 4) {
        const total = buf.readUInt32BE(0);
        if (buf.length < total) break;
        const message = smithy.decode(buf.subarray(0, total));
        buf = buf.subarray(total);
        if (message.headers[':message-type']?.value !== 'event') throw new Error('exception frame');
        const event = message.headers[':event-type']?.value as string;
        const text = bedrockText(JSON.parse(this.decoder.decode(message.body)), event);
        if (text) texts.push(text);
      }
    } catch (err) {
      return cb(err as Error);
    }
    this.buffered = buf;
    if (texts.length > 0) this.push(esEvent(texts));
    cb();
  }
  override _flush(cb: TransformCallback): void {
    this.push(DONE);
    cb();
  }
}

export function handWrittenBedrock(bodies: Bodies, keep = false): Promise<RunResult> {
  return eachBody(bodies, keep, (chunks, k) => drainBytes(nodeSource(chunks).pipe(new HandWrittenBedrock()), k));
}

// ---------------------------------------------------------------- SDKs

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
 * `createEventSourceResponseHandler` over a fetch-style Response (TextDecoderStream ->
 * EventSourceParserStream -> JSON parse (+ schema) per event), then each answer text
 * serialized as Elasticsearch's event. Its output is a stream of parsed events that knows
 * nothing of reads, so it writes one event per delta.
 */
export async function aiSdk(
  textOf: TextOf,
  bodies: Bodies,
  contentType: string,
  validate: boolean,
): Promise<RunResult> {
  let outBytes = 0;
  let deltas = 0;
  for (const chunks of bodies) {
    const response = new Response(webSource(chunks), { headers: { 'content-type': contentType } });
    const handler = createEventSourceResponseHandler(validate ? openAiChunkSchema : anySchema);
    const { value } = await handler({ response, url: 'http://127.0.0.1/v1/chat/completions', requestBodyValues: {} });
    const reader = value.getReader();
    for (;;) {
      const { done, value: parsed } = await reader.read();
      if (done) break;
      if (!parsed.success) throw parsed.error;
      // The SDK drops SSE event names; Anthropic's `type` field carries the same name.
      const json = parsed.value as any;
      const text = textOf(json, json?.type);
      if (text) {
        outBytes += Buffer.from(esEvent([text])).length;
        deltas++;
      }
    }
    outBytes += DONE.length;
  }
  return { outBytes, deltas };
}

/**
 * The openai SDK's own stream parser (`Stream.fromSSEResponse`, what `openai.chat.completions
 * .create({stream: true})` iterates), each chunk's answer text serialized as Elasticsearch's
 * event: one event per delta (the iterator knows nothing of reads).
 */
export async function openAiSdk(bodies: Bodies, contentType: string): Promise<RunResult> {
  let outBytes = 0;
  let deltas = 0;
  for (const chunks of bodies) {
    const response = new Response(webSource(chunks), { headers: { 'content-type': contentType } });
    const stream = OpenAiStream.fromSSEResponse<any>(response, new AbortController());
    for await (const chunk of stream) {
      const text = openAiText(chunk, undefined);
      if (text) {
        outBytes += Buffer.from(esEvent([text])).length;
        deltas++;
      }
    }
    outBytes += DONE.length;
  }
  return { outBytes, deltas };
}
