/**
 * Where a contender allocates (including what the young-generation GC collects), by function:
 *   node --import tsx bench/alloc-profile.ts completion [scenario] [event|16k|1b] [passes]
 * Prints bytes allocated per event by the allocating function, attributed to the nearest lib/ frame.
 */
import { Session } from 'node:inspector/promises';
import { contenderNamed, prepare, runner, scenario, type Chunking } from './lib/scenarios.js';

const [which = 'completion', scenarioId = 'openai', chunking = 'event', passesArg = '5'] = process.argv.slice(2);
const s = scenario(scenarioId);
const name = contenderNamed(which, s);
const p = prepare(s, chunking as Chunking, false);
const run = runner(name, p);
for (let i = 0; i < 2; i++) await run();
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as never);
const passes = Number(passesArg);
for (let i = 0; i < passes; i++) await run();
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } };
interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}
const by = new Map<string, number>();
let total = 0;
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(node_modules|lib|bench)\//, '$1/').replace(/^file:\/\//, '')}:${n.callFrame.lineNumber + 1}`;
function walk(n: Node, owner: string | null): void {
  const l = label(n);
  const own = / lib\//.test(l) ? l : owner;
  if (n.selfSize > 0) {
    total += n.selfSize;
    const key = own && own !== l ? `${l}  [in ${own}]` : l;
    by.set(key, (by.get(key) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, own);
}
walk(profile.head, null);
const events = p.events.length * passes;
console.log(`${which} ${scenarioId} (${chunking}): ${(total / events).toFixed(0)} bytes allocated per event (sampled)`);
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 30))
  console.log(String(Math.round(v / events)).padStart(6), 'B/event', k);
