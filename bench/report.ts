/**
 * Markdown tables for the README from bench/results/*.json:
 *   node --import tsx bench/report.ts > results.md
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, kib, mib } from './lib/stats.js';
import { table } from './lib/table.js';
import type { GroupResult } from './throughput.js';
import type { WorstRow } from './worst-case.js';
import type { MemoryRow } from './memory.js';
import type { LatencyRow } from './latency.js';
import type { MicroRow } from './micro.js';
import type { LoadRow } from './http-load.js';

const dir = fileURLToPath(new URL('./results/', import.meta.url));
const load = <T>(
  name: string,
):
  | (T & {
      machine: {
        cpu: string;
        cores: number;
        ramGiB: number;
        node: string;
        commit: string;
        dirty: boolean;
        date: string;
      };
      quick: boolean;
    })
  | null => (existsSync(dir + name + '.json') ? JSON.parse(readFileSync(dir + name + '.json', 'utf8')) : null);

const out: string[] = [];
const p = (s = '') => out.push(s);
const stamp = (
  m: { cpu: string; cores: number; ramGiB: number; node: string; commit: string; dirty: boolean; date: string },
  quick: boolean,
) =>
  `_${m.date.slice(0, 16).replace('T', ' ')} UTC, ${m.cpu} (${m.cores} cores, ${m.ramGiB} GiB), Node ${m.node}, commit \`${m.commit}\`${m.dirty ? ' with uncommitted lib/ changes' : ''}${quick ? ', --quick' : ''}._`;

const tp = load<{ groups: GroupResult[]; targets: Record<string, number> }>('throughput');
if (tp) {
  p('### Throughput');
  p();
  p(stamp(tp.machine, tp.quick));
  p();
  for (const chunking of ['event', '16k', '1b'] as const) {
    const label = { event: 'one event per read', '16k': '16 KiB reads', '1b': '1-byte reads' }[chunking];
    const gs = tp.groups.filter((g) => g.chunking === chunking);
    if (gs.length === 0) continue;
    p(`**${label}** — MB/s of provider input, median of the runs (± half their min–max range):`);
    p();
    const cell = (g: GroupResult, pick: (name: string) => boolean) => {
      const c = g.contenders.find((x) => pick(x.name));
      return c ? `${fmt(c.mbps!.median)} ±${fmt(c.ms!.spreadPct / 2, 0)}%` : '–';
    };
    const mbps = (g: GroupResult, pick: (name: string) => boolean) =>
      g.contenders.find((x) => pick(x.name))?.mbps?.median;
    const isOurs = (n: string) => n.startsWith('completionStream');
    const isDelta = (n: string) => n.startsWith('deltaStream');
    const isHand = (n: string) => n.startsWith('hand-written');
    const isSdk = (n: string) => n === 'AI SDK parse path (no schema)';
    const isZod = (n: string) => n === 'AI SDK parse path + zod chunk schema';
    const isFloor = (n: string) => n.startsWith('floor');
    const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? fmt(a / b, 2) + '×' : '–');
    p(
      table(
        [
          'framing',
          'completionStream',
          'deltaStream',
          'hand-written',
          'AI SDK',
          'AI SDK + zod',
          'floor (JSON.parse)',
          'completionStream vs hand-written / AI SDK / floor',
        ],
        gs.map((g) => [
          g.framingName,
          cell(g, isOurs),
          cell(g, isDelta),
          cell(g, isHand),
          cell(g, isSdk),
          cell(g, isZod),
          cell(g, isFloor),
          `${ratio(mbps(g, isOurs), mbps(g, isHand))} / ${ratio(mbps(g, isOurs), mbps(g, isSdk))} / ${fmt(((mbps(g, isOurs) ?? 0) / mbps(g, isFloor)!) * 100, 0)}%`,
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    p();
  }
  p('**Targets** (one event per read):');
  p();
  p(
    table(
      ['ratio', 'measured', 'met'],
      Object.entries(tp.targets).map(([k, v]) => {
        const t = /target >= ([\d.]+)/.exec(k);
        return [k, fmt(v, 2), t ? (v >= Number(t[1]) ? 'yes' : '**no**') : '–'];
      }),
      ['l', 'r', 'l'],
    ),
  );
  p();
}

const wc = load<{ rows: WorstRow[] }>('worst-case');
if (wc) {
  p('### Framing worst case: one huge event in small reads');
  p();
  p(stamp(wc.machine, wc.quick));
  p();
  const sizes = [...new Set(wc.rows.map((r) => r.eventBytes))].sort((a, b) => a - b);
  const keys = [...new Set(wc.rows.map((r) => `${r.contender}|${r.readBytes}`))];
  p(
    table(
      ['contender', 'reads', ...sizes.map((s) => mib(s))],
      keys.map((k) => {
        const [c, read] = k.split('|');
        return [
          c!,
          read + ' B',
          ...sizes.map((s) => {
            const r = wc.rows.find((x) => x.contender === c && String(x.readBytes) === read && x.eventBytes === s);
            return r ? fmt(r.mbps, 2) + (r.stoppedEarly ? ` (stopped after ${mib(r.bytesDone)})` : '') : '–';
          }),
        ];
      }),
      ['l', 'r', ...sizes.map(() => 'r' as const)],
    ),
  );
  p();
  const heavy = wc.rows.filter((r) => r.heapGrowth > 0 && r.readBytes === 1);
  if (heavy.length > 0) {
    p(
      'Peak heap growth while one event arrives in 1-byte reads: ' +
        heavy.map((r) => `${mib(r.eventBytes)} event → +${mib(r.heapGrowth)}`).join(', ') +
        '.',
    );
    p();
  }
}

const mem = load<{ rows: MemoryRow[] }>('memory');
if (mem) {
  p('### Backpressure and memory');
  p();
  p(stamp(mem.machine, mem.quick));
  p();
  p(
    table(
      [
        'input',
        'consumer',
        'MB/s in',
        'events out',
        'peak buffered in the stream (writable + readable + batch)',
        'source bytes handed over after the stall',
        'RSS growth',
        'output complete',
      ],
      mem.rows.map((r) => [
        mib(r.inputBytes),
        r.consumer === 'slow' ? 'slow (4 MB/s)' : 'stalls halfway',
        fmt(r.mbps),
        r.outEvents.toLocaleString('en-US'),
        `${kib(r.peakBuffered.total)} (${kib(r.peakBuffered.writable)} + ${kib(r.peakBuffered.readable)} + ${r.peakBuffered.batch} chars)`,
        r.stall ? kib(r.stall.sourceBytesAfterStall) : '–',
        mib(r.memory.rssGrowth),
        r.complete ? 'yes' : '**no**',
      ]),
      ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  p();
}

const lat = load<{ rows: LatencyRow[] }>('latency');
if (lat) {
  p('### Latency at 10,000 deltas/s');
  p();
  p(stamp(lat.machine, lat.quick));
  p();
  p(
    table(
      ['setting', 'p50', 'p99', 'p99.9', 'max', 'events written', 'bytes written', 'deltas per event'],
      lat.rows.map((r) => [
        r.setting,
        ms(r.p50),
        ms(r.p99),
        ms(r.p999),
        ms(r.max),
        r.eventsWritten.toLocaleString('en-US'),
        r.bytesWritten.toLocaleString('en-US'),
        fmt(r.deltasPerEvent, 1),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  p();
}

function ms(v: number): string {
  return v < 1 ? (v * 1000).toFixed(1) + ' µs' : v.toFixed(2) + ' ms';
}

const micro = load<{ events: number; rows: MicroRow[] }>('micro');
if (micro) {
  p('### Where the time per OpenAI event goes (tinybench, no streams)');
  p();
  p(stamp(micro.machine, micro.quick));
  p();
  p(
    table(
      ['stage', 'ns per event'],
      micro.rows.map((r) => [r.stage, fmt(r.nsPerEvent, 0)]),
      ['l', 'r'],
    ),
  );
  p();
}

const http = load<{ deltasPerStream: number; intervalMs: number; rows: LoadRow[] }>('http');
if (http) {
  p('### HTTP load (loopback)');
  p();
  p(stamp(http.machine, http.quick));
  p();
  p(
    table(
      [
        'contender',
        'streams open',
        'streams/s',
        'deltas/s',
        'time to first delta p50 / p99',
        'added over direct p50 / p99',
        'proxy CPU ms per 1,000 deltas',
        'proxy memory per open stream',
      ],
      http.rows.map((r) => [
        r.ours ? `**${r.contender}**` : r.contender,
        r.concurrency.toLocaleString('en-US'),
        fmt(r.streamsPerSec),
        fmt(r.deltasPerSec, 0),
        `${r.ttfdP50.toFixed(1)} / ${r.ttfdP99.toFixed(1)} ms`,
        r.addedTtfdP50 === null ? '–' : `${r.addedTtfdP50.toFixed(1)} / ${r.addedTtfdP99!.toFixed(1)} ms`,
        r.cpuMsPer1000Deltas === null ? '–' : r.cpuMsPer1000Deltas.toFixed(1),
        r.memPerOpenStreamKiB === null ? '–' : r.memPerOpenStreamKiB.toFixed(1) + ' KiB',
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  p();
}

process.stdout.write(out.join('\n') + '\n');
