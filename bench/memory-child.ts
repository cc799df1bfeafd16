/**
 * One backpressure scenario in a fresh process (so RSS belongs to it alone), result as JSON
 * on stdout: a lazily generated OpenAI stream of `--bytes` through completionStream into a
 * consumer that is `fast`, `slow` (drains at `--rate` output bytes/s, 4 MB/s by default, like a
 * slow client socket) or `stall` (stops taking writes halfway through, is measured stalled,
 * then released to finish, so the run also proves nothing was lost).
 */
import { Readable, Writable } from 'node:stream';
import { completionStream, type CompletionStream } from '../lib/index.js';
import { openAiSse, tokens } from './lib/data.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const totalBytes = Number(args.get('bytes') ?? 100 * 1048576);
const consumerKind = (args.get('consumer') ?? 'slow') as 'fast' | 'slow' | 'stall';
const READ = 16384;
const rate = Number(args.get('rate') ?? 4e6);

/** One block of content events (about 1.3 MB), handed over again and again in 16 KiB reads. */
const block = Buffer.concat(openAiSse(tokens(4096, 9)).events.slice(1, -3));
const blockDeltas = 4096;
const head = openAiSse(['x']).events[0]!;
const tail = Buffer.concat(openAiSse(['x']).events.slice(-3));

class GeneratedSource extends Readable {
  handedOver = 0;
  deltas = 0;
  private offset = 0;
  private started = false;
  private ended = false;
  constructor() {
    super({ highWaterMark: READ });
  }
  override _read(): void {
    for (;;) {
      let chunk: Buffer;
      if (!this.started) {
        this.started = true;
        chunk = head;
      } else if (this.offset === 0 && this.handedOver + tail.length >= totalBytes) {
        // Only whole blocks, so no event is cut short before the end events.
        if (!this.ended) {
          this.ended = true;
          this.handedOver += tail.length;
          this.push(tail);
        }
        this.push(null);
        return;
      } else {
        const end = Math.min(block.length, this.offset + READ);
        chunk = block.subarray(this.offset, end);
        this.offset = end === block.length ? 0 : end;
        if (this.offset === 0) this.deltas += blockDeltas;
      }
      this.handedOver += chunk.length;
      if (!this.push(chunk)) return;
    }
  }
}

function heldBatchChars(cs: CompletionStream): number {
  // Private state, read for measurement only: the answer text held for the next event.
  return ((cs as unknown as { batcher: { chars: number } }).batcher.chars ?? 0) as number;
}

function buffered(cs: CompletionStream): { writable: number; readable: number; batch: number; total: number } {
  const writable = cs.writableLength;
  const readable = cs.readableLength;
  const batch = heldBatchChars(cs);
  return { writable, readable, batch, total: writable + readable + batch };
}

const source = new GeneratedSource();
const cs = completionStream('openai', { contentType: 'text/event-stream' });

let outBytes = 0;
let outEvents = 0;
let outDeltas = 0;
let largestEvent = 0;
let peakBuffered = { writable: 0, readable: 0, batch: 0, total: 0 };
let stalled = false;
let release: (() => void) | null = null;
let sourceBytesAtStall = 0;
let lastChunk = '';
let allowedAt = 0;

function countDeltas(chunk: Buffer): number {
  let n = 0;
  let i = -1;
  while ((i = chunk.indexOf('{"delta":', i + 1)) !== -1) n++;
  return n;
}

const consumer = new Writable({
  highWaterMark: READ,
  write(chunk: Buffer, _enc, cb) {
    outBytes += chunk.length;
    outEvents++;
    outDeltas += countDeltas(chunk);
    if (chunk.length > largestEvent) largestEvent = chunk.length;
    const b = buffered(cs);
    if (b.total > peakBuffered.total) peakBuffered = b;
    lastChunk = chunk.length < 200 ? chunk.toString() : '';
    if (consumerKind === 'slow') {
      // A bandwidth-limited reader: each write costs its bytes at `rate`.
      const now = performance.now();
      allowedAt = Math.max(allowedAt, now) + (chunk.length / rate) * 1000;
      if (allowedAt - now >= 1) setTimeout(cb, allowedAt - now);
      else cb();
    } else if (consumerKind === 'stall' && !stalled && source.handedOver >= totalBytes / 2) {
      stalled = true;
      sourceBytesAtStall = source.handedOver;
      release = cb; // stop reading: this write is never acknowledged until released
    } else cb();
  },
});

const rssSamples: number[] = [];
let peakRss = 0;
let peakHeap = 0;
let peakExternal = 0;
function sampleMemory(): void {
  const m = process.memoryUsage();
  rssSamples.push(m.rss);
  if (m.rss > peakRss) peakRss = m.rss;
  if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  if (m.external + m.arrayBuffers > peakExternal) peakExternal = m.external + m.arrayBuffers;
}

(globalThis as { gc?: () => void }).gc?.();
const baseline = process.memoryUsage();
const sampler = setInterval(sampleMemory, 25);
const t0 = performance.now();

const finished = new Promise<void>((resolve, reject) => {
  consumer.once('finish', resolve);
  consumer.once('error', reject);
  cs.once('error', reject);
});
source.pipe(cs).pipe(consumer);

let stall: Record<string, unknown> | null = null;
if (consumerKind === 'stall') {
  // Wait for the stall, then for the source to stop being pulled (no progress for 300 ms).
  while (!stalled) await new Promise((r) => setTimeout(r, 5));
  const atStall = sourceBytesAtStall;
  const stallStart = performance.now();
  let last = -1;
  let quietSince = performance.now();
  let peakWhileStalled = { writable: 0, readable: 0, batch: 0, total: 0 };
  while (performance.now() - quietSince < 300) {
    await new Promise((r) => setTimeout(r, 10));
    const b = buffered(cs);
    if (b.total > peakWhileStalled.total) peakWhileStalled = b;
    if (source.handedOver !== last) {
      last = source.handedOver;
      quietSince = performance.now();
    }
  }
  sampleMemory();
  stall = {
    sourceBytesAtStall: atStall,
    sourceBytesAfterStall: source.handedOver - atStall,
    msToSettle: performance.now() - stallStart - 300,
    bufferedWhileStalled: buffered(cs),
    peakBufferedWhileStalled: peakWhileStalled,
    sourceReadableLength: source.readableLength,
    consumerWritableLength: consumer.writableLength,
    rssWhileStalled: process.memoryUsage().rss,
  };
  release!();
}

await finished;
const ms = performance.now() - t0;
clearInterval(sampler);
sampleMemory();

const complete = outDeltas === source.deltas && lastChunk === 'event: message\ndata: [DONE]\n\n';

process.stdout.write(
  JSON.stringify({
    inputBytes: source.handedOver,
    consumer: consumerKind,
    ms,
    mbps: source.handedOver / 1e3 / ms,
    outBytes,
    outEvents,
    outDeltas,
    inDeltas: source.deltas,
    complete,
    rate: consumerKind === 'slow' ? rate : null,
    largestEvent,
    peakBuffered,
    bound: {
      writableHighWaterMark: cs.writableHighWaterMark,
      readableHighWaterMark: cs.readableHighWaterMark,
      maxBatchChars: (cs as unknown as { batcher: { maxBytes: number } }).batcher.maxBytes,
    },
    stall,
    memory: {
      baselineRss: baseline.rss,
      peakRss,
      rssGrowth: peakRss - baseline.rss,
      baselineHeap: baseline.heapUsed,
      peakHeap,
      heapGrowth: peakHeap - baseline.heapUsed,
      peakExternal,
    },
  }) + '\n',
);
