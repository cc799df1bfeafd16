import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CHUNKINGS,
  FLOOR,
  OURS_COMPLETION,
  PASS,
  SCENARIOS,
  prepare,
  producesDeltas,
  runner,
  writesSse,
  type Chunking,
  type Scenario,
} from './lib/scenarios.js';
import { summarize, type Summary } from './lib/stats.js';
import { timeInterleaved, type Contender } from './lib/timing.js';

export { CHUNKINGS, type Chunking } from './lib/scenarios.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./throughput-child.ts', import.meta.url));

export interface IsolatedResult {
  /** MB/s of each process (the median of its timed passes). */
  mbps: Summary;
  /** Young-generation GC time as a share of the timed passes, per process (median, min, max). */
  gcMinorShare: Summary;
  processes: number;
}

export interface ContenderResult {
  name: string;
  ours: boolean;
  /** All contenders interleaved round robin in one process. */
  ms?: Summary;
  /** Provider input MB/s (10^6 bytes), interleaved. */
  mbps?: Summary;
  deltasPerSec?: Summary;
  /** Each contender alone in fresh processes. */
  isolated?: IsolatedResult;
}

export interface GroupResult {
  framing: string;
  framingName: string;
  provider: string;
  chunking: Chunking;
  inputBytes: number;
  reads: number;
  deltas: number;
  contenders: ContenderResult[];
}

export interface ThroughputOptions {
  quick: boolean;
  log: (line: string) => void;
  /** Interleaved in one process, each contender in its own processes, or both (default). */
  mode?: 'interleaved' | 'isolated' | 'both';
  /** Scenario ids to run (default all). */
  scenarios?: string[];
  /** Chunkings to run (default each scenario's own). */
  chunkings?: Chunking[];
  /** Fresh processes per contender in isolated mode. Default 3. */
  processes?: number;
}

async function validate(p: ReturnType<typeof prepare>, contenders: string[]): Promise<void> {
  let reference: string | undefined;
  for (const c of contenders) {
    if (!producesDeltas(c)) continue;
    const got = await runner(c, p)(true);
    if (got.deltas !== p.deltas)
      throw new Error(`${c}: produced ${got.deltas} deltas, expected ${p.deltas}; not a like-for-like run`);
    if (writesSse(c)) {
      if (reference === undefined) reference = got.text;
      else if (got.text !== reference)
        throw new Error(`${c}: output differs from ${OURS_COMPLETION}'s; not a like-for-like run`);
    }
  }
}

export async function runThroughput(opts: ThroughputOptions): Promise<GroupResult[]> {
  const mode = opts.mode ?? 'both';
  const results: GroupResult[] = [];
  const rounds = opts.quick ? 3 : 7;
  const warmup = opts.quick ? 1 : 2;
  const scenarios: Scenario[] = opts.scenarios ? SCENARIOS.filter((s) => opts.scenarios!.includes(s.id)) : SCENARIOS;
  for (const s of scenarios) {
    for (const ch of CHUNKINGS) {
      if (!s.chunkings.includes(ch.id) || (opts.chunkings && !opts.chunkings.includes(ch.id))) continue;
      const p = prepare(s, ch.id, opts.quick);
      await validate(p, s.contenders);
      const byName = new Map<string, ContenderResult>(
        s.contenders.map((name) => [
          name,
          { name, ours: name.startsWith('completionStream') || name.startsWith('deltaStream') },
        ]),
      );
      if (mode !== 'isolated') {
        const contenders: Contender[] = s.contenders.map((name) => ({ name, run: runner(name, p) }));
        const timed = await timeInterleaved(contenders, ch.id === '1b' ? Math.max(3, rounds - 2) : rounds, warmup);
        for (const t of timed) {
          const c = byName.get(t.name)!;
          c.ms = t.ms;
          c.mbps = summarize(t.ms.samples.map((ms) => p.bytes / 1e3 / ms));
          c.deltasPerSec = summarize(t.ms.samples.map((ms) => (p.deltas * 1000) / ms));
        }
      }
      if (mode !== 'interleaved' && ch.id !== '1b') {
        const n = opts.processes ?? 3;
        const perProcess = new Map<string, { mbps: number; gc: number }[]>(s.contenders.map((c) => [c, []]));
        // Round robin over processes too: contender A, B, C, then A, B, C again, so drift in the machine's load falls on all.
        for (let r = 0; r < n; r++) {
          for (let k = 0; k < s.contenders.length; k++) {
            const name = s.contenders[(k + r) % s.contenders.length]!;
            const passes = opts.quick ? 3 : 5;
            const args = ['--import', 'tsx', CHILD, s.id, ch.id, name, String(passes), String(warmup)];
            if (opts.quick) args.push('quick');
            const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 });
            const res = JSON.parse(stdout.trim().split('\n').pop()!) as {
              samples: number[];
              totalMs: number;
              gcMinorMs: number;
            };
            const med = summarize(res.samples).median;
            perProcess.get(name)!.push({ mbps: p.bytes / 1e3 / med, gc: res.gcMinorMs / res.totalMs });
          }
        }
        for (const [name, list] of perProcess) {
          byName.get(name)!.isolated = {
            mbps: summarize(list.map((x) => x.mbps)),
            gcMinorShare: summarize(list.map((x) => x.gc)),
            processes: list.length,
          };
        }
      }
      results.push({
        framing: s.id,
        framingName: p.name,
        provider: s.provider,
        chunking: ch.id,
        inputBytes: p.bytes,
        reads: p.reads,
        deltas: p.deltas,
        contenders: [...byName.values()],
      });
      opts.log(`  ${p.name}, ${ch.label}: done`);
    }
  }
  return results;
}

export { FLOOR, PASS, OURS_COMPLETION };
