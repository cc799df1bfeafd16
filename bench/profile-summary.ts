/** Self time per function of a .cpuprofile (top N), plus total time under chosen frames. */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Node {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

const [file, topArg = '30'] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map<number, Node>(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++)
  self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
const name = (cf: CallFrame) =>
  `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(node_modules|lib|bench)\//, '$1/').replace(/^file:\/\//, '')}${cf.url ? ':' + (cf.lineNumber + 1) : ''}`;
let total = 0;
let idle = 0;
const selfBy = new Map<string, number>();
const inclBy = new Map<string, number>();
for (const [id, t] of self) {
  total += t;
  const n = byId.get(id)!;
  if (n.callFrame.functionName === '(idle)') idle += t;
  const key = name(n.callFrame);
  selfBy.set(key, (selfBy.get(key) ?? 0) + t);
  // Inclusive: every distinct frame on the stack gets the sample once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur)!.callFrame);
    if (seen.has(k)) continue;
    seen.add(k);
    inclBy.set(k, (inclBy.get(k) ?? 0) + t);
  }
}
const busy = total - idle;
const pct = (t: number) => ((t / busy) * 100).toFixed(1).padStart(5) + '%';
console.log(
  `sampled ${(total / 1000).toFixed(0)} ms, busy ${(busy / 1000).toFixed(0)} ms (percentages of busy time)\n`,
);
console.log('self time:');
for (const [k, t] of [...selfBy]
  .filter(([k]) => !k.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(topArg)))
  console.log(pct(t), k);
console.log('\ninclusive time (lib/ and selected frames):');
for (const [k, t] of [...inclBy]
  .filter(([k]) => /lib\/|JSON|push|write|Buffer|garbage/.test(k))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(topArg)))
  console.log(pct(t), k);

// Self time grouped by what it is for (first matching rule wins).
const categories: [string, RegExp][] = [
  ['JSON.parse of event payloads', /^parseEventJson |^parse :|JSON\.parse/],
  ['AWS frame decoding (prelude, CRCs, headers)', /event-streams|crc32|checkPrelude|framing\/event-stream/],
  ['framing: lines, SSE fields, UTF-8 decode', /framing\/|^slice node:buffer|^utf8Slice|^toString/],
  ['normalizing (providers/, shape cache)', /lib\/providers\//],
  [
    'batching and serializing (batch/, sse/, completion-stream)',
    /lib\/batch\/|lib\/sse\/|completion-stream|delta-stream|ordered-error|body-decoder/,
  ],
  [
    'string -> Buffer on push',
    /^write node:buffer|^utf8Write|^FastBuffer|^createUnsafeBuffer|^from node:buffer|^fromStringFast|^allocate/,
  ],
  [
    'Node stream machinery (Readable/Writable/Transform, events)',
    /node:internal\/streams|node:events|^emit |^set length/,
  ],
  ['garbage collector', /garbage collector/],
  ['benchmark harness (source, data generation)', /bench\//],
  ['module loading / startup', /node:internal\/modules|tsx|cjs-module-lexer|wrapSafe|compile|esbuild/],
];
const cat = new Map<string, number>();
for (const [k, t] of selfBy) {
  if (k.startsWith('(idle)')) continue;
  const c = categories.find(([, re]) => re.test(k))?.[0] ?? 'other';
  cat.set(c, (cat.get(c) ?? 0) + t);
}
console.log('\nby purpose (self time):');
for (const [c, t] of [...cat].sort((a, b) => b[1] - a[1])) console.log(pct(t), c);
