import {
  anthropicSse,
  bedrockEventStream,
  cohereNdjson,
  geminiJsonArray,
  manyOpenAiStreams,
  ollamaNdjson,
  openAiSse,
  rechunk,
  tokens,
  type GeneratedStream,
} from './data.js';
import {
  aiSdk,
  anthropicText,
  cohereText,
  floor,
  handWrittenBedrock,
  handWrittenNdjson,
  handWrittenSse,
  leanDecodeOnly,
  ollamaText,
  openAiSdk,
  openAiText,
  oursCompletion,
  oursDeltas,
  passThrough,
  smithyDecodeOnly,
  type Bodies,
  type RunResult,
} from './pipelines.js';

/**
 * The throughput tables as data: which provider streams (scenarios), cut how (chunkings),
 * through which contenders. Shared by the interleaved run (all contenders in one process)
 * and the isolated run (bench/throughput-child.ts: one contender per fresh process), so
 * both measure exactly the same bytes.
 */

export type Chunking = 'event' | '16k' | '1b';
export const CHUNKINGS: { id: Chunking; label: string }[] = [
  { id: 'event', label: 'one event per read' },
  { id: '16k', label: '16 KiB reads' },
  { id: '1b', label: '1-byte reads' },
];

export const FLOOR = 'parse floor: JSON.parse only (pre-split)';
export const PASS = 'reference: PassThrough (stream hops, no parsing)';
export const OURS_COMPLETION = 'completionStream (bytes -> ES SSE)';
export const OURS_DELTAS = 'deltaStream (bytes -> delta objects)';
export const HAND_SSE = 'hand-written: eventsource-parser + JSON.parse + JSON.stringify, batching per read';
export const HAND_NDJSON = 'hand-written: TextDecoder + split + JSON.parse + JSON.stringify, batching per read';
export const HAND_BEDROCK = 'hand-written: Smithy EventStreamCodec + JSON.parse + JSON.stringify, batching per read';
export const AI_SDK = 'AI SDK parse path (no schema) + serialize, one event per delta';
export const AI_SDK_ZOD = 'AI SDK parse path + zod chunk schema + serialize, one event per delta';
export const OPENAI_SDK = 'openai SDK Stream parser + serialize, one event per delta';
export const SMITHY_FLOOR = 'Smithy EventStreamCodec.decode only (pre-split frames, no JSON)';
export const LEAN_FLOOR = 'lean frame reader only (pre-split frames, no JSON)';

export interface Scenario {
  id: string;
  /** Provider id in the library. */
  provider: string;
  /** Events per generated stream (full run; --quick uses a quarter). */
  count: number;
  /** Chunkings this scenario is measured in. */
  chunkings: Chunking[];
  /** The generated bodies (several for the many-streams scenario). */
  generate(count: number): GeneratedStream[];
  contenders: string[];
}

const SSE_OPENAI = [FLOOR, PASS, OURS_COMPLETION, OURS_DELTAS, HAND_SSE, AI_SDK, AI_SDK_ZOD, OPENAI_SDK];

export const SCENARIOS: Scenario[] = [
  {
    id: 'openai',
    provider: 'openai',
    count: 20000,
    chunkings: ['event', '16k', '1b'],
    generate: (n) => [openAiSse(tokens(n))],
    contenders: SSE_OPENAI,
  },
  {
    id: 'openai-compat',
    provider: 'openai',
    count: 20000,
    chunkings: ['event', '16k', '1b'],
    generate: (n) => [openAiSse(tokens(n), false)],
    contenders: SSE_OPENAI,
  },
  {
    id: 'openai-varying',
    provider: 'openai',
    count: 20000,
    chunkings: ['event', '16k'],
    generate: (n) => [openAiSse(tokens(n), 'varying')],
    contenders: SSE_OPENAI,
  },
  {
    id: 'openai-many',
    provider: 'openai',
    count: 200,
    chunkings: ['event', '16k'],
    generate: (n) => manyOpenAiStreams(n, 200),
    contenders: [FLOOR, PASS, OURS_COMPLETION, OURS_DELTAS, HAND_SSE, OPENAI_SDK],
  },
  {
    id: 'anthropic',
    provider: 'anthropic',
    count: 20000,
    chunkings: ['event', '16k', '1b'],
    generate: (n) => [anthropicSse(tokens(n))],
    contenders: [FLOOR, PASS, OURS_COMPLETION, OURS_DELTAS, HAND_SSE, AI_SDK],
  },
  {
    id: 'cohere',
    provider: 'cohere',
    count: 20000,
    chunkings: ['event', '16k', '1b'],
    generate: (n) => [cohereNdjson(tokens(n))],
    contenders: [FLOOR, PASS, OURS_COMPLETION, OURS_DELTAS, HAND_NDJSON],
  },
  {
    id: 'ollama',
    provider: 'ollama',
    count: 20000,
    chunkings: ['event', '16k', '1b'],
    generate: (n) => [ollamaNdjson(tokens(n))],
    contenders: [FLOOR, PASS, OURS_COMPLETION, OURS_DELTAS, HAND_NDJSON],
  },
  {
    id: 'gemini',
    provider: 'googleaistudio',
    count: 20000,
    chunkings: ['event', '16k', '1b'],
    generate: (n) => [geminiJsonArray(tokens(n))],
    contenders: [FLOOR, PASS, OURS_COMPLETION, OURS_DELTAS],
  },
  {
    id: 'bedrock',
    provider: 'amazonbedrock',
    count: 20000,
    chunkings: ['event', '16k', '1b'],
    generate: (n) => [bedrockEventStream(tokens(n))],
    contenders: [FLOOR, SMITHY_FLOOR, LEAN_FLOOR, PASS, OURS_COMPLETION, OURS_DELTAS, HAND_BEDROCK],
  },
];

export function scenario(id: string): Scenario {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s) throw new Error(`unknown scenario ${id}; one of ${SCENARIOS.map((x) => x.id).join(', ')}`);
  return s;
}

/** What one contender needs: the reads, the payloads, the totals. */
export interface Prepared {
  name: string;
  provider: string;
  contentType: string;
  bodies: Bodies;
  /** Every body's events, one per read, before any re-chunking (the pre-split AWS frames). */
  events: Buffer[];
  payloads: string[];
  bytes: number;
  reads: number;
  deltas: number;
}

export function prepare(s: Scenario, chunking: Chunking, quick: boolean): Prepared {
  let count = quick ? Math.ceil(s.count / 4) : s.count;
  if (chunking === '1b') count = quick ? 300 : 1500;
  const streams = s.generate(count);
  const bodies = streams.map((g) =>
    chunking === 'event' ? g.events : rechunk(g.events, chunking === '16k' ? 16384 : 1),
  );
  let bytes = 0;
  let reads = 0;
  let deltas = 0;
  const payloads: string[] = [];
  const events: Buffer[] = [];
  for (let i = 0; i < streams.length; i++) {
    bytes += streams[i]!.bytes;
    deltas += streams[i]!.deltas;
    reads += bodies[i]!.length;
    for (const p of streams[i]!.payloads) payloads.push(p);
    for (const e of streams[i]!.events) events.push(e);
  }
  const name =
    streams.length > 1
      ? `${streams.length} × ${streams[0]!.name} of ${streams[0]!.payloads.length} chunks, 1–8 tokens each, every stream its own id`
      : streams[0]!.name;
  return {
    name,
    provider: s.provider,
    contentType: streams[0]!.contentType,
    bodies,
    events,
    payloads,
    bytes,
    reads,
    deltas,
  };
}

/** The run function of a contender on prepared data; `keep` asks for the output text (validation). */
export function runner(contender: string, p: Prepared): (keep?: boolean) => RunResult | Promise<RunResult> {
  const { provider, contentType, bodies } = p;
  const hand = handFor(provider);
  switch (contender) {
    case FLOOR:
      return () => floor(p.payloads);
    case SMITHY_FLOOR:
      return () => smithyDecodeOnly(p.events);
    case LEAN_FLOOR:
      return () => leanDecodeOnly(p.events);
    case PASS:
      return () => passThrough(bodies);
    case OURS_COMPLETION:
      return (keep) => oursCompletion(provider, contentType, bodies, keep);
    case OURS_DELTAS:
      return () => oursDeltas(provider, contentType, bodies);
    case HAND_SSE:
    case HAND_NDJSON:
      return (keep) => hand(bodies, keep);
    case HAND_BEDROCK:
      return (keep) => handWrittenBedrock(bodies, keep);
    case AI_SDK:
      return () => aiSdk(provider === 'anthropic' ? anthropicText : openAiText, bodies, contentType, false);
    case AI_SDK_ZOD:
      return () => aiSdk(openAiText, bodies, contentType, true);
    case OPENAI_SDK:
      return () => openAiSdk(bodies, contentType);
    default:
      throw new Error(`unknown contender ${contender}`);
  }
}

function handFor(provider: string): (bodies: Bodies, keep?: boolean) => Promise<RunResult> {
  switch (provider) {
    case 'anthropic':
      return (b, k) => handWrittenSse(anthropicText, b, k);
    case 'cohere':
      return (b, k) => handWrittenNdjson(cohereText, b, k);
    case 'ollama':
      return (b, k) => handWrittenNdjson(ollamaText, b, k);
    default:
      return (b, k) => handWrittenSse(openAiText, b, k);
  }
}

/**
 * A contender by the short name the profiling scripts take (completion, delta, hand, …):
 * `hand` is the scenario's own hand-written pipeline. Throws for an unknown name, naming the known ones.
 */
export function contenderNamed(short: string, s: Scenario): string {
  const hand =
    s.provider === 'amazonbedrock'
      ? HAND_BEDROCK
      : s.provider === 'cohere' || s.provider === 'ollama'
        ? HAND_NDJSON
        : HAND_SSE;
  const names: Record<string, string> = {
    completion: OURS_COMPLETION,
    delta: OURS_DELTAS,
    hand,
    passthrough: PASS,
    floor: FLOOR,
    aisdk: AI_SDK,
    openaisdk: OPENAI_SDK,
    smithy: SMITHY_FLOOR,
    lean: LEAN_FLOOR,
  };
  const name = names[short];
  if (!name) throw new Error(`unknown contender ${short}; one of ${Object.keys(names).join(', ')}`);
  return name;
}

/** Floors count parsed values, not deltas; the PassThrough writes no deltas. */
export function producesDeltas(contender: string): boolean {
  return contender !== FLOOR && contender !== SMITHY_FLOOR && contender !== LEAN_FLOOR && contender !== PASS;
}

/** Output text of the contenders that write Elasticsearch SSE, checked identical in the validation pass. */
export function writesSse(contender: string): boolean {
  return (
    contender === OURS_COMPLETION || contender === HAND_SSE || contender === HAND_NDJSON || contender === HAND_BEDROCK
  );
}
