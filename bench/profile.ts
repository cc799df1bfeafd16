/**
 * Runs one throughput contender over and over for a CPU profile:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts completion [scenario] [event|16k|1b] [seconds]
 *   node --import tsx bench/profile-summary.ts /tmp/prof/<file>.cpuprofile
 * Contenders: completion, delta, hand, passthrough, floor, aisdk, openaisdk, smithy, lean.
 * Scenarios: those of bench/lib/scenarios.ts (openai, openai-compat, openai-varying, openai-many, anthropic, …).
 */
import { contenderNamed, prepare, runner, scenario, type Chunking } from './lib/scenarios.js';

const [which = 'completion', scenarioId = 'openai', chunking = 'event', secondsArg = '8'] = process.argv.slice(2);
const s = scenario(scenarioId);
const name = contenderNamed(which, s);
const p = prepare(s, chunking as Chunking, false);
const run = runner(name, p);
const until = performance.now() + Number(secondsArg) * 1000;
let passes = 0;
const t0 = performance.now();
while (performance.now() < until) {
  await run();
  passes++;
}
const ms = (performance.now() - t0) / passes;
console.log(
  `${which} ${scenarioId} (${chunking}): ${passes} passes, ${ms.toFixed(1)} ms/pass, ${(p.bytes / 1e3 / ms).toFixed(1)} MB/s, ${((ms * 1e6) / p.events.length).toFixed(0)} ns/event`,
);
