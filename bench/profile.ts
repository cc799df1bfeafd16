/**
 * Runs one throughput contender over and over for a CPU profile:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts completion [event|16k|1b] [seconds] [provider]
 *   node --import tsx bench/profile-summary.ts /tmp/prof/<file>.cpuprofile
 * Contenders: completion, delta, passthrough, floor (any provider below); handwritten, aisdk (openai only).
 * Providers: openai (default, with the obfuscation field), openai-compat (without it), anthropic, cohere, ollama, googleaistudio, amazonbedrock.
 */
import type { ProviderId } from '../lib/index.js';
import { anthropicSse, bedrockEventStream, cohereNdjson, geminiJsonArray, ollamaNdjson, openAiSse, rechunk, tokens } from './lib/data.js';
import { aiSdk, floor, handWrittenSse, openAiText, oursCompletion, oursDeltas, passThrough } from './lib/pipelines.js';

const [which = 'completion', chunking = 'event', secondsArg = '8', provider = 'openai'] = process.argv.slice(2);
const generators = { openai: openAiSse, 'openai-compat': (t: string[]) => openAiSse(t, false), anthropic: anthropicSse, cohere: cohereNdjson, ollama: ollamaNdjson, googleaistudio: geminiJsonArray, amazonbedrock: bedrockEventStream };
const generate = generators[provider as keyof typeof generators];
if (!generate) throw new Error(`unknown provider ${provider}`);
const s = generate(tokens(20000));
const providerId = provider === 'openai-compat' ? 'openai' : (provider as keyof typeof generators & ProviderId);
const chunks = chunking === 'event' ? s.events : rechunk(s.events, chunking === '16k' ? 16384 : 1);
const runs: Record<string, () => unknown> = {
  completion: () => oursCompletion(providerId, s.contentType, chunks),
  delta: () => oursDeltas(providerId, s.contentType, chunks),
  handwritten: () => handWrittenSse(openAiText, chunks),
  aisdk: () => aiSdk(openAiText, chunks, s.contentType, false),
  passthrough: () => passThrough(chunks),
  floor: () => floor(s.payloads),
};
const run = runs[which];
if (!run) throw new Error(`unknown contender ${which}; one of ${Object.keys(runs).join(', ')}`);
const until = performance.now() + Number(secondsArg) * 1000;
let passes = 0;
const t0 = performance.now();
while (performance.now() < until) {
  await run();
  passes++;
}
const ms = (performance.now() - t0) / passes;
console.log(`${which} ${provider} (${chunking}): ${passes} passes, ${ms.toFixed(1)} ms/pass, ${(s.bytes / 1e3 / ms).toFixed(1)} MB/s, ${((ms * 1e6) / s.events.length).toFixed(0)} ns/event`);
