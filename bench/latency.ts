import { PassThrough, Readable, Writable, type Duplex } from 'node:stream';
import { completionStream } from '../lib/index.js';
import { percentiles } from './lib/stats.js';

/**
 * Time from a delta's bytes entering the pipeline (pushed by the provider-side source) to
 * the SSE bytes carrying it leaving it (arriving at the consumer), at a paced rate of
 * deltas per second, one provider event per read. Each delta's text carries its sequence
 * number so the consumer knows which deltas an event delivered.
 */

export interface LatencyRow {
  setting: string;
  ours: boolean;
  maxDelayMs: number | null;
  targetRate: number;
  achievedRate: number;
  deltas: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  eventsWritten: number;
  bytesWritten: number;
  deltasPerEvent: number;
}

const HEAD =
  'data: {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":{"content":" t';
const TAIL = '"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n';

async function measure(
  make: () => Duplex,
  rate: number,
  seconds: number,
): Promise<Omit<LatencyRow, 'setting' | 'ours' | 'maxDelayMs'>> {
  const total = Math.round(rate * seconds);
  const tIn = new Float64Array(total);
  const tOut = new Float64Array(total).fill(-1);
  let events = 0;
  let bytes = 0;
  const source = new Readable({ objectMode: true, read() {} });
  const consumer = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const now = performance.now();
      events++;
      bytes += chunk.length;
      // Find every " t<seq>" delta in the event.
      let i = -1;
      while ((i = chunk.indexOf(':" t', i + 1)) !== -1) {
        let j = i + 4;
        let seq = 0;
        for (let c = chunk[j]!; c >= 0x30 && c <= 0x39; c = chunk[++j]!) seq = seq * 10 + (c - 0x30);
        if (seq < total) tOut[seq] = now;
      }
      cb();
    },
  });
  const done = new Promise<void>((resolve, reject) => {
    consumer.once('finish', resolve);
    consumer.once('error', reject);
  });
  source.pipe(make()).pipe(consumer);
  source.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'));
  const interval = 1000 / rate;
  const start = performance.now() + 5;
  let seq = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Every delta whose time has come goes out as its own read.
      while (seq < total && start + seq * interval <= now) {
        const chunk = Buffer.from(HEAD + seq + TAIL);
        tIn[seq] = performance.now();
        source.push(chunk);
        seq++;
      }
      if (seq < total) setImmediate(tick);
      else resolve();
    };
    setImmediate(tick);
  });
  const elapsed = performance.now() - start;
  source.push(Buffer.from('data: [DONE]\n\n'));
  source.push(null);
  await done;
  const lat = new Float64Array(total);
  let missing = 0;
  for (let k = 0; k < total; k++) {
    if (tOut[k]! < 0) missing++;
    lat[k] = tOut[k]! - tIn[k]!;
  }
  if (missing > 0) throw new Error(`latency: ${missing} deltas never came out`);
  const [p50, p90, p99, p999, max] = percentiles(lat, [0.5, 0.9, 0.99, 0.999, 1]);
  return {
    targetRate: rate,
    achievedRate: (total * 1000) / elapsed,
    deltas: total,
    p50: p50!,
    p90: p90!,
    p99: p99!,
    p999: p999!,
    max: max!,
    eventsWritten: events,
    bytesWritten: bytes,
    deltasPerEvent: total / events,
  };
}

export interface LatencyOptions {
  quick: boolean;
  log: (line: string) => void;
}

export async function runLatency(opts: LatencyOptions): Promise<LatencyRow[]> {
  const rate = 10000;
  const seconds = opts.quick ? 1 : 3;
  const settings: { setting: string; ours: boolean; maxDelayMs: number | null; make: () => Duplex }[] = [
    {
      setting: 'reference: PassThrough (stream hop only)',
      ours: false,
      maxDelayMs: null,
      make: () => new PassThrough(),
    },
    {
      setting: 'completionStream, default (maxDelayMs 0)',
      ours: true,
      maxDelayMs: 0,
      make: () => completionStream('openai'),
    },
    {
      setting: 'completionStream, maxDelayMs 1',
      ours: true,
      maxDelayMs: 1,
      make: () => completionStream('openai', { maxDelayMs: 1 }),
    },
    {
      setting: 'completionStream, maxDelayMs 5',
      ours: true,
      maxDelayMs: 5,
      make: () => completionStream('openai', { maxDelayMs: 5 }),
    },
    {
      setting: 'completionStream, maxDelayMs 20',
      ours: true,
      maxDelayMs: 20,
      make: () => completionStream('openai', { maxDelayMs: 20 }),
    },
  ];
  // One short pass first so the JIT has seen the code before anything is recorded.
  await measure(() => completionStream('openai'), rate, 0.3);
  const rows: LatencyRow[] = [];
  for (const s of settings) {
    const r = await measure(s.make, rate, seconds);
    rows.push({ setting: s.setting, ours: s.ours, maxDelayMs: s.maxDelayMs, ...r });
    opts.log(`  ${s.setting}: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, ${r.eventsWritten} events`);
  }
  return rows;
}
