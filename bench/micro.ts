import { Bench } from 'tinybench';
import { createParser } from 'eventsource-parser';
import { type DeltaObject, type Frame } from '../lib/index.js';
import { BodyDecoder, SseDecoder, completionEvent } from '../lib/stages.js';
import { getProvider } from '../lib/providers/index.js';
import { CompletionEventWriter } from '../lib/output/serialize.js';
import { openAiSse, tokens } from './lib/data.js';

/**
 * Where the time per OpenAI event goes, stage by stage, with no stream in between:
 * each task handles every event of one generated stream once (so the timer's own cost is
 * spread over thousands of events) and the table reports nanoseconds per event.
 */

export interface MicroRow {
  stage: string;
  ours: boolean | null;
  nsPerEvent: number;
  rmePct: number;
  samples: number;
}

export async function runMicro(opts: {
  quick: boolean;
  log: (l: string) => void;
}): Promise<{ events: number; rows: MicroRow[] }> {
  const stream = openAiSse(tokens(opts.quick ? 2000 : 5000));
  const events = stream.events;
  const n = events.length;
  const texts = tokens(n);
  const frames: Frame[] = stream.payloads.map((data) => ({ event: 'message', data, id: '' }));
  const plain = openAiSse(tokens(opts.quick ? 2000 : 5000), false);
  const plainFrames: Frame[] = plain.payloads.map((data) => ({ event: 'message', data, id: '' }));
  const noopFrame = (_f: Frame) => {};
  const out: DeltaObject[] = [];
  const bench = new Bench({ time: opts.quick ? 300 : 1000, warmupTime: opts.quick ? 100 : 300 });
  let sink = 0;
  const stages: { stage: string; ours: boolean | null; fn: () => void }[] = [
    {
      stage: 'JSON.parse of the payload (the floor)',
      ours: null,
      fn: () => {
        for (const p of stream.payloads) sink += JSON.parse(p) === null ? 0 : 1;
      },
    },
    {
      stage: 'SseDecoder.write (framing only)',
      ours: true,
      fn: () => {
        const d = new SseDecoder();
        for (const e of events) d.write(e, noopFrame);
      },
    },
    {
      stage: 'OpenAI normalizer on pre-split frames, api.openai.com stream (JSON.parse + delta objects)',
      ours: true,
      fn: () => {
        const norm = getProvider('openai').createNormalizer();
        for (const f of frames) {
          norm.frame(f, out);
          out.length = 0;
        }
      },
    },
    {
      stage: 'BodyDecoder.write (framing + JSON.parse + normalize), api.openai.com stream',
      ours: true,
      fn: () => {
        const d = new BodyDecoder('openai', { contentType: stream.contentType });
        for (const e of events) {
          d.write(e, out);
          out.length = 0;
        }
      },
    },
    {
      stage: 'CompletionEventWriter.append (one delta written into the shared block, as completionStream does)',
      ours: true,
      fn: () => {
        const writer = new CompletionEventWriter(false, (c) => (sink += c.length));
        const one = [''];
        for (const t of texts) {
          one[0] = t;
          writer.append(one, 1);
        }
        sink += writer.take()?.length ?? 0;
      },
    },
    {
      stage: 'completionEvent([text]) (the same event as a string)',
      ours: true,
      fn: () => {
        for (const t of texts) sink += completionEvent([t]).length;
      },
    },
    {
      stage: 'Buffer.from(event string) (a string event turned into bytes, as push() of a string does)',
      ours: null,
      fn: () => {
        for (const t of texts) sink += Buffer.from(completionEvent([t])).length;
      },
    },
    {
      stage: 'TextDecoder + eventsource-parser feed (framing only)',
      ours: false,
      fn: () => {
        const dec = new TextDecoder();
        const p = createParser({
          onEvent: (e) => {
            sink += e.data.length;
          },
        });
        for (const e of events) p.feed(dec.decode(e, { stream: true }));
      },
    },
    {
      stage: 'JSON.stringify({completion:[{delta}]}) (hand-written serialize)',
      ours: false,
      fn: () => {
        for (const t of texts)
          sink += ('event: message\ndata: ' + JSON.stringify({ completion: [{ delta: t }] }) + '\n\n').length;
      },
    },
    {
      stage: 'OpenAI normalizer, compatible stream without obfuscation (shape cache applies)',
      ours: true,
      fn: () => {
        const norm = getProvider('openai').createNormalizer();
        for (const f of plainFrames) {
          norm.frame(f, out);
          out.length = 0;
        }
      },
    },
    {
      stage: 'BodyDecoder.write, compatible stream without obfuscation',
      ours: true,
      fn: () => {
        const d = new BodyDecoder('openai', { contentType: stream.contentType });
        for (const e of plain.events) {
          d.write(e, out);
          out.length = 0;
        }
      },
    },
  ];
  for (const s of stages) bench.add(s.stage, s.fn);
  await bench.run();
  const rows: MicroRow[] = [];
  for (const task of bench.tasks) {
    const r = task.result as {
      state: string;
      latency?: { p50: number; rme: number; samplesCount?: number; samples?: number[] };
    };
    const stage = stages.find((s) => s.stage === task.name)!;
    if (!r.latency) throw new Error(`micro: ${task.name} did not complete (${r.state})`);
    const row = {
      stage: task.name,
      ours: stage.ours,
      nsPerEvent: (r.latency.p50 * 1e6) / n,
      rmePct: r.latency.rme,
      samples: r.latency.samplesCount ?? r.latency.samples?.length ?? 0,
    };
    rows.push(row);
    opts.log(`  ${task.name}: ${row.nsPerEvent.toFixed(0)} ns/event`);
  }
  if (sink === -1) console.log('unreachable');
  return { events: n, rows };
}
