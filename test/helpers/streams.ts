import { Readable } from 'node:stream';
import {
  completionStream,
  deltaStream,
  type DeltaObject,
  type CompletionStreamOptions,
  type DeltaStreamOptions,
  type ProviderId,
} from '../../lib/index.js';

/** Splits bytes at the given offsets (sorted, deduplicated, inside the buffer). */
export function cutAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.filter((o) => o > 0 && o < bytes.length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

/** Every `size` bytes. */
export function cutEvery(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  if (chunks.length === 0) chunks.push(Buffer.alloc(0));
  return chunks;
}

/** A source that hands over each chunk as a separate read (a copy, so no stage can rely on sharing). */
export function source(chunks: readonly Buffer[]): Readable {
  return Readable.from(
    chunks.map((c) => Buffer.from(c)),
    { objectMode: false },
  );
}

export interface DeltaOutcome {
  deltas: DeltaObject[];
  error: { type: string; reason: string; status: number } | null;
}

/** Runs `deltaStream` over the chunks and collects what it yields and how it ends. */
export async function runDeltas(
  provider: ProviderId,
  chunks: readonly Buffer[],
  options?: DeltaStreamOptions,
): Promise<DeltaOutcome> {
  const deltas: DeltaObject[] = [];
  try {
    for await (const d of source(chunks).pipe(deltaStream(provider, options))) deltas.push(d as DeltaObject);
    return { deltas, error: null };
  } catch (err) {
    const e = err as { type?: string; reason?: string; status?: number; message?: string };
    if (typeof e.type !== 'string' || typeof e.status !== 'number') throw err;
    return { deltas, error: { type: e.type, reason: e.reason ?? '', status: e.status } };
  }
}

/** Runs `completionStream` over the chunks and returns the output text. */
export async function runCompletion(
  provider: ProviderId,
  chunks: readonly Buffer[],
  options?: CompletionStreamOptions,
): Promise<string> {
  let text = '';
  for await (const b of source(chunks).pipe(completionStream(provider, options)))
    text += (b as Buffer).toString('utf8');
  return text;
}

/** Answer text only, joined: what a user reads. */
export function answer(deltas: readonly DeltaObject[]): string {
  let s = '';
  for (const d of deltas) if ('delta' in d) s += d.delta;
  return s;
}

/** The SSE events of an Elasticsearch stream as {event, data} pairs. */
export function parseEsEvents(text: string): { event: string; data: string }[] {
  const events: { event: string; data: string }[] = [];
  for (const block of text.split('\n\n')) {
    if (!block) continue;
    const lines = block.replace(/^\uFEFF/, '').split('\n');
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
    const data = lines
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    events.push({ event, data });
  }
  return events;
}
