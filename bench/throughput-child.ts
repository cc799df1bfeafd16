/**
 * One throughput contender alone in this (fresh) process:
 *   node --import tsx bench/throughput-child.ts <scenario> <chunking> <contender> <passes> <warmup> [quick]
 * Prints one JSON line: milliseconds per timed pass, and the garbage-collection time
 * (young generation, the rest) observed during the timed passes. The warm-up lasts at least
 * BENCH_WARMUP_MS (default 1000) as well as <warmup> passes.
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

// Warm-up: the given passes, and more until WARMUP_MS have passed, the same time for every contender (a count
// of passes alone gives a fast contender a shorter warm-up). A fresh process is slower for its first few hundred
// milliseconds whatever runs in it: the JIT is still compiling, and the young generation, grown large by the data
// preparation above, is allocated into pages never touched before (with --max-semi-space-size=2 that phase
// disappears); see bench/README.md.
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const warmStart = performance.now();
for (let i = 0; i < Number(warmupArg) || performance.now() - warmStart < warmupMs; i++) await run();
counting = true;
const samples: number[] = [];
/** CPU time of this process per pass (all its threads): less disturbed than wall time when other work shares the cores. */
const cpuSamples: number[] = [];
const t0 = performance.now();
for (let i = 0; i < Number(passesArg); i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  await run();
  const used = process.cpuUsage(c);
  samples.push(performance.now() - t);
  cpuSamples.push((used.user + used.system) / 1000);
}
const total = performance.now() - t0;
// GC entries are delivered asynchronously: let the last ones arrive.
await new Promise((r) => setTimeout(r, 20));
counting = false;
obs.disconnect();
process.stdout.write(
  JSON.stringify({
    samples,
    cpuSamples,
    totalMs: total,
    gcMinorMs: minorMs,
    gcOtherMs: otherMs,
    bytes: p.bytes,
    deltas: p.deltas,
    reads: p.reads,
  }) + '\n',
);
