import { isProviderId, providerIds, type ProviderId } from '../lib/stages.js';
import {
  anthropicSse,
  bedrockEventStream,
  cohereNdjson,
  geminiJsonArray,
  ollamaNdjson,
  openAiSse,
  rechunk,
  tokens,
  type GeneratedStream,
} from './lib/data.js';
import {
  aiSdk,
  anthropicText,
  cohereText,
  floor,
  handWrittenNdjson,
  handWrittenSse,
  ollamaText,
  openAiText,
  oursCompletion,
  oursDeltas,
  passThrough,
  type RunResult,
} from './lib/pipelines.js';

export const FLOOR = 'floor: JSON.parse only (pre-split)';
export const PASS = 'reference: PassThrough (stream hops, no parsing)';
export const OURS_COMPLETION = 'completionStream (bytes -> ES SSE)';
export const OURS_DELTAS = 'deltaStream (bytes -> delta objects)';
export const AI_SDK = 'AI SDK parse path (no schema)';
export const AI_SDK_ZOD = 'AI SDK parse path + zod chunk schema';
import { summarize, type Summary } from './lib/stats.js';
import { timeInterleaved, type Contender } from './lib/timing.js';

export type Chunking = 'event' | '16k' | '1b';
export const CHUNKINGS: { id: Chunking; label: string }[] = [
  { id: 'event', label: 'one event per read' },
  { id: '16k', label: '16 KiB reads' },
  { id: '1b', label: '1-byte reads' },
];

interface Framing {
  id: string;
  provider: ProviderId | null;
  generate: (texts: string[]) => GeneratedStream;
  handWritten?: (chunks: Buffer[], keep?: boolean) => Promise<RunResult>;
  handWrittenName?: string;
  aiSdk?: (chunks: Buffer[], contentType: string) => Promise<RunResult>;
  aiSdkZod?: (chunks: Buffer[], contentType: string) => Promise<RunResult>;
}

function framings(): Framing[] {
  const known = new Set<string>(providerIds());
  const has = (id: string): ProviderId | null => (known.has(id) && isProviderId(id) ? id : null);
  const list: Framing[] = [
    {
      id: 'openai-sse',
      provider: has('openai'),
      generate: openAiSse,
      handWritten: (c, k) => handWrittenSse(openAiText, c, k),
      handWrittenName: 'hand-written: eventsource-parser + JSON.parse/stringify + Transform',
      aiSdk: (c, ct) => aiSdk(openAiText, c, ct, false),
      aiSdkZod: (c, ct) => aiSdk(openAiText, c, ct, true),
    },
    {
      id: 'openai-compat-sse',
      provider: has('openai'),
      generate: (texts) => openAiSse(texts, false),
      handWritten: (c, k) => handWrittenSse(openAiText, c, k),
      handWrittenName: 'hand-written: eventsource-parser + JSON.parse/stringify + Transform',
      aiSdk: (c, ct) => aiSdk(openAiText, c, ct, false),
      aiSdkZod: (c, ct) => aiSdk(openAiText, c, ct, true),
    },
    {
      id: 'anthropic-sse',
      provider: has('anthropic'),
      generate: anthropicSse,
      handWritten: (c, k) => handWrittenSse(anthropicText, c, k),
      handWrittenName: 'hand-written: eventsource-parser + JSON.parse/stringify + Transform',
      aiSdk: (c, ct) => aiSdk(anthropicText, c, ct, false),
    },
    {
      id: 'cohere-ndjson',
      provider: has('cohere'),
      generate: cohereNdjson,
      handWritten: (c, k) => handWrittenNdjson(cohereText, c, k),
      handWrittenName: 'hand-written: split2(JSON.parse) + Transform',
    },
  ];
  if (known.has('ollama')) {
    list.push({
      id: 'ollama-ndjson',
      provider: 'ollama',
      generate: ollamaNdjson,
      handWritten: (c, k) => handWrittenNdjson(ollamaText, c, k),
      handWrittenName: 'hand-written: split2(JSON.parse) + Transform',
    });
  }
  list.push({ id: 'gemini-json-array', provider: has('googleaistudio'), generate: geminiJsonArray });
  list.push({ id: 'bedrock-eventstream', provider: has('amazonbedrock'), generate: bedrockEventStream });
  return list;
}

export interface ContenderResult {
  name: string;
  ours: boolean;
  ms: Summary;
  /** Provider input MB/s (10^6 bytes). */
  mbps: Summary;
  deltasPerSec: Summary;
}

export interface GroupResult {
  framing: string;
  framingName: string;
  provider: ProviderId | null;
  chunking: Chunking;
  inputBytes: number;
  reads: number;
  deltas: number;
  contenders: ContenderResult[];
}

export interface ThroughputOptions {
  quick: boolean;
  log: (line: string) => void;
}

function expectDeltas(name: string, got: RunResult, want: number): void {
  if (got.deltas !== want) throw new Error(`${name}: produced ${got.deltas} deltas, expected ${want}; not a like-for-like run`);
}

export async function runThroughput(opts: ThroughputOptions): Promise<GroupResult[]> {
  const results: GroupResult[] = [];
  const rounds = opts.quick ? 3 : 7;
  const warmup = opts.quick ? 1 : 2;
  for (const f of framings()) {
    for (const ch of CHUNKINGS) {
      const count = ch.id === '1b' ? (opts.quick ? 300 : 1500) : opts.quick ? 5000 : 20000;
      const stream = f.generate(tokens(count));
      const chunks = ch.id === 'event' ? stream.events : rechunk(stream.events, ch.id === '16k' ? 16384 : 1);
      const ct = stream.contentType;
      const contenders: Contender[] = [
        { name: FLOOR, run: () => floor(stream.payloads) },
        { name: PASS, run: () => passThrough(chunks) },
      ];
      if (f.provider) {
        const p = f.provider;
        expectDeltas('completionStream', await oursCompletion(p, ct, chunks, true), stream.deltas);
        expectDeltas('deltaStream', await oursDeltas(p, ct, chunks), stream.deltas);
        contenders.push({ name: OURS_COMPLETION, ours: true, run: () => oursCompletion(p, ct, chunks) });
        contenders.push({ name: OURS_DELTAS, ours: true, run: () => oursDeltas(p, ct, chunks) });
      }
      if (f.handWritten) {
        const hw = f.handWritten;
        expectDeltas('hand-written', await hw(chunks, true), stream.deltas);
        contenders.push({ name: f.handWrittenName!, run: () => hw(chunks) });
      }
      if (f.aiSdk) {
        const sdk = f.aiSdk;
        expectDeltas('AI SDK', await sdk(chunks, ct), stream.deltas);
        contenders.push({ name: AI_SDK, run: () => sdk(chunks, ct) });
      }
      if (f.aiSdkZod) {
        const sdk = f.aiSdkZod;
        expectDeltas('AI SDK + zod', await sdk(chunks, ct), stream.deltas);
        contenders.push({ name: AI_SDK_ZOD, run: () => sdk(chunks, ct) });
      }
      if (contenders.length === 2 && ch.id !== 'event') continue; // nothing to compare the floor with
      const timed = await timeInterleaved(contenders, ch.id === '1b' ? Math.max(3, rounds - 2) : rounds, warmup);
      const group: GroupResult = {
        framing: f.id,
        framingName: stream.name,
        provider: f.provider,
        chunking: ch.id,
        inputBytes: stream.bytes,
        reads: chunks.length,
        deltas: stream.deltas,
        contenders: timed.map((t) => ({
          name: t.name,
          ours: t.ours,
          ms: t.ms,
          mbps: summarize(t.ms.samples.map((ms) => stream.bytes / 1e3 / ms)),
          deltasPerSec: summarize(t.ms.samples.map((ms) => (stream.deltas * 1000) / ms)),
        })),
      };
      results.push(group);
      opts.log(`  ${stream.name}, ${ch.label}: done`);
    }
  }
  return results;
}
