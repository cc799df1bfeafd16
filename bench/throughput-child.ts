/**
 * One throughput contender alone in this (fresh) process:
 *   node --import tsx bench/throughput-child.ts <scenario> <chunking> <contender> <passes> <warmup> [quick]
 * Prints one JSON line: milliseconds per timed pass, and the garbage-collection time
 * (young generation, the rest) observed during the timed passes.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { prepare, runner, scenario, type Chunking } from './lib/scenarios.js';

const [scenarioId, chunking, contender, passesArg = '5', warmupArg = '2', quickArg] = process.argv.slice(2);
const p = prepare(scenario(scenarioId!), chunking as Chunking, quickArg === 'quick');
const run = runner(contender!, p);

let minorMs = 0;
let otherMs = 0;
let counting = false;
const obs = new PerformanceObserver((list) => {
  if (!counting) return;
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minorMs += e.duration;
    else otherMs += e.duration;
  }
});
obs.observe({ entryTypes: ['gc'] });

for (let i = 0; i < Number(warmupArg); i++) await run();
counting = true;
const samples: number[] = [];
const t0 = performance.now();
for (let i = 0; i < Number(passesArg); i++) {
  const t = performance.now();
  await run();
  samples.push(performance.now() - t);
}
const total = performance.now() - t0;
// GC entries are delivered asynchronously: let the last ones arrive.
await new Promise((r) => setTimeout(r, 20));
counting = false;
obs.disconnect();
process.stdout.write(
  JSON.stringify({
    samples,
    totalMs: total,
    gcMinorMs: minorMs,
    gcOtherMs: otherMs,
    bytes: p.bytes,
    deltas: p.deltas,
    reads: p.reads,
  }) + '\n',
);
