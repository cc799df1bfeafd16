import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import split2 from 'split2';
import { completionStream } from '../lib/index.js';
import { ndjsonParser, sseParser } from '../lib/stages.js';

/**
 * The framing worst case: one huge event arriving in tiny reads. A splitter that re-scans
 * (or re-joins) what it carries on every read is quadratic here; ours must stay linear,
 * i.e. MB/s flat as the event grows from 1 to 8 MiB.
 */

const MiB = 1048576;

/** One provider stream holding a single answer text of `size` bytes, then the end marker. */
function hugeSse(size: number): Buffer {
  const head = 'data: {"choices":[{"index":0,"delta":{"content":"';
  const tail = '"},"finish_reason":null}]}\n\ndata: [DONE]\n\n';
  return Buffer.concat([Buffer.from(head), Buffer.alloc(size - head.length - tail.length, 0x61), Buffer.from(tail)]);
}

function hugeNdjson(size: number): Buffer {
  const head = '{"is_finished":false,"event_type":"text-generation","text":"';
  const tail = '"}\n{"is_finished":true,"event_type":"stream-end","finish_reason":"COMPLETE","response":{"text":""}}\n';
  return Buffer.concat([Buffer.from(head), Buffer.alloc(size - head.length - tail.length, 0x61), Buffer.from(tail)]);
}

/** Hands `buf` over in reads of `read` bytes, made lazily (no array of millions of slices up front). */
function sliced(
  buf: Buffer,
  read: number,
  deadline: number,
): Readable & { handedOver: () => number; peakHeap: () => number } {
  let i = 0;
  let reads = 0;
  let peakHeap = 0;
  const r = new Readable({
    objectMode: true,
    highWaterMark: 16,
    read() {
      // The whole pass can run inside one turn of the event loop (every read is taken
      // synchronously), so no timer could stop it: the source checks the budget itself.
      if (performance.now() > deadline) {
        this.destroy(Object.assign(new Error('over the time budget'), { name: 'AbortError' }));
        return;
      }
      while (i < buf.length) {
        const chunk = buf.subarray(i, Math.min(buf.length, i + read));
        i += read;
        // What the carried, unfinished event costs in heap, sampled now and then.
        if ((++reads & 0x3fff) === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
        if (!this.push(chunk)) return;
      }
      this.push(null);
    },
  }) as Readable & { handedOver: () => number; peakHeap: () => number };
  r.handedOver = () => Math.min(i, buf.length);
  r.peakHeap = () => peakHeap;
  return r;
}

function sink(): Writable & { bytes: number; items: number } {
  const w = new Writable({
    objectMode: true,
    write(chunk: { length?: number }, _enc, cb) {
      w.items++;
      w.bytes += typeof chunk?.length === 'number' ? chunk.length : 0;
      cb();
    },
  }) as Writable & { bytes: number; items: number };
  w.bytes = 0;
  w.items = 0;
  return w;
}

export interface WorstRow {
  contender: string;
  ours: boolean;
  readBytes: number;
  eventBytes: number;
  ms: number;
  mbps: number;
  /** Set when the run was cut short at the time budget: the rest of its series was skipped. */
  stoppedEarly?: boolean;
  /** Bytes the pass got through (less than eventBytes when it was stopped at the time budget). */
  bytesDone: number;
  /** Peak heap in use during the pass minus before it (after a GC), sampled every 16,384 reads. */
  heapGrowth: number;
}

interface Case {
  contender: string;
  ours: boolean;
  make: (size: number) => Buffer;
  stream: () => NodeJS.ReadWriteStream;
  check: (s: ReturnType<typeof sink>, size: number) => void;
}

/** One pass; past `budgetMs` it is aborted and reports how far it got (bytes handed over). */
async function once(
  c: Case,
  size: number,
  read: number,
  budgetMs: number,
): Promise<{ ms: number; items: number; bytes: number; aborted: boolean; heapGrowth: number }> {
  const input = c.make(size);
  const out = sink();
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const source = sliced(input, read, t0 + budgetMs);
  try {
    await pipeline(source, c.stream(), out);
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
    return {
      ms: performance.now() - t0,
      items: out.items,
      bytes: source.handedOver(),
      aborted: true,
      heapGrowth: Math.max(0, source.peakHeap() - heapBefore),
    };
  }
  const ms = performance.now() - t0;
  c.check(out, size);
  return { ms, items: out.items, bytes: size, aborted: false, heapGrowth: Math.max(0, source.peakHeap() - heapBefore) };
}

export interface WorstOptions {
  quick: boolean;
  log: (line: string) => void;
}

export async function runWorstCase(opts: WorstOptions): Promise<WorstRow[]> {
  const sizes = opts.quick ? [MiB / 4, MiB / 2, MiB, 2 * MiB] : [MiB, 2 * MiB, 4 * MiB, 8 * MiB];
  const budgetMs = opts.quick ? 3000 : 15000;
  const atLeast = (what: string, min: number) => (s: ReturnType<typeof sink>, size: number) => {
    if (s.bytes < min) throw new Error(`${what}: only ${s.bytes} bytes out for a ${size}-byte event`);
  };
  const cases: Case[] = [
    {
      contender: 'completionStream, OpenAI SSE',
      ours: true,
      make: hugeSse,
      stream: () => completionStream('openai', { contentType: 'text/event-stream' }),
      check: (s, size) => atLeast('completionStream', size - 100)(s, size),
    },
    {
      contender: 'sseParser (framing only)',
      ours: true,
      make: hugeSse,
      stream: () => sseParser(),
      check: (s) => {
        if (s.items !== 2) throw new Error(`sseParser: ${s.items} frames, expected 2`);
      },
    },
    {
      contender: 'ndjsonParser (framing only), NDJSON line',
      ours: true,
      make: hugeNdjson,
      stream: () => ndjsonParser(),
      check: (s) => {
        if (s.items !== 2) throw new Error(`ndjsonParser: ${s.items} lines, expected 2`);
      },
    },
    {
      contender: 'split2 (line splitting only), NDJSON line',
      ours: false,
      make: hugeNdjson,
      stream: () => split2(),
      check: (s) => {
        if (s.items !== 2) throw new Error(`split2: ${s.items} lines, expected 2`);
      },
    },
  ];
  const rows: WorstRow[] = [];
  const plan: { read: number; cases: Case[]; sizes: number[] }[] = [
    { read: 1460, cases: cases.filter((c) => c.ours), sizes },
    // split2 re-splits its carried remainder on every read: start smaller to show the trend.
    { read: 1460, cases: cases.filter((c) => !c.ours), sizes: [...new Set([MiB / 4, MiB / 2, ...sizes])] },
    // 1-byte reads cost the stream machinery per byte; one contender shows linearity (and the heap it needs).
    { read: 1, cases: cases.slice(0, 1), sizes },
  ];
  for (const { read, cases: list, sizes: series } of plan) {
    for (const c of list) {
      let stopped = false;
      for (const size of series) {
        if (stopped) break;
        const runs = read === 1 || !c.ours ? 1 : 3;
        const passes: Awaited<ReturnType<typeof once>>[] = [];
        for (let r = 0; r < runs; r++) {
          const res = await once(c, size, read, budgetMs);
          passes.push(res);
          if (res.aborted) break;
        }
        passes.sort((a, b) => a.ms - b.ms);
        const p = passes.some((x) => x.aborted)
          ? passes.find((x) => x.aborted)!
          : passes[Math.floor(passes.length / 2)]!;
        stopped = p.aborted;
        rows.push({
          contender: c.contender,
          ours: c.ours,
          readBytes: read,
          eventBytes: size,
          ms: p.ms,
          mbps: p.bytes / 1e3 / p.ms,
          bytesDone: p.bytes,
          heapGrowth: p.heapGrowth,
          ...(stopped ? { stoppedEarly: true } : {}),
        });
        const done = stopped
          ? ` — stopped at the ${budgetMs / 1000} s budget after ${(p.bytes / MiB).toFixed(2)} MiB; larger sizes skipped`
          : '';
        opts.log(
          `  ${c.contender}, ${read}-byte reads, ${size / MiB} MiB: ${(p.bytes / 1e3 / p.ms).toFixed(2)} MB/s (${p.ms.toFixed(0)} ms), heap +${(p.heapGrowth / MiB).toFixed(0)} MiB${done}`,
        );
      }
    }
  }
  return rows;
}
