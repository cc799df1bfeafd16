/**
 * `npm run bench [-- --quick] [-- --only=throughput,worst,memory,latency,micro,http,chat] [-- --no-1g]
 *   [-- --out=DIR] [-- --mode=both|interleaved|isolated] [-- --scenarios=openai,anthropic,...]
 *   [-- --chunkings=event,16k,1b] [-- --processes=3]`
 *
 * Every benchmark on generated data (no network beyond loopback), a table per benchmark with
 * the machine, `<out>/<name>.json` and `<out>/<name>.svg`. The full run writes bench/results/
 * (the committed results); `--quick` writes to bench/results-quick/ (not committed) unless
 * `--out` says otherwise. Figures are medians of several runs with their spread.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineInfo, machineLine, type MachineInfo } from './lib/machine.js';
import { fmt, kib, mib } from './lib/stats.js';
import { table } from './lib/table.js';
import { writeChart, type BarGroup } from './lib/svg.js';
import { hasGc } from './lib/timing.js';
import { CHUNKINGS, runThroughput, type Chunking, type ContenderResult } from './throughput.js';
import {
  FLOOR,
  HAND_BEDROCK,
  HAND_NDJSON,
  HAND_SSE,
  OURS_COMPLETION,
  OURS_DELTAS,
  PASS,
  SCENARIOS,
} from './lib/scenarios.js';
import { runWorstCase, type WorstRow } from './worst-case.js';
import { runMemory, type MemoryRow } from './memory.js';
import { runLatency, type LatencyRow } from './latency.js';
import { runMicro } from './micro.js';

const BENCHES = ['throughput', 'worst', 'memory', 'latency', 'micro', 'http', 'chat'];
const USAGE =
  'usage: npm run bench -- [--quick] [--only=' +
  BENCHES.join(',') +
  '] [--no-1g|--1g] [--out=DIR]\n' +
  '       [--mode=both|interleaved|isolated] [--scenarios=' +
  SCENARIOS.map((s) => s.id).join(',') +
  ']\n' +
  '       [--chunkings=event,16k,1b] [--processes=N]';

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** Every flag checked: a misspelt one (`--only=thruput`, `--quik`) is an error, never a silent no-op. */
function parseArgs(argv: string[]) {
  const o = {
    quick: false,
    only: null as Set<string> | null,
    big: undefined as boolean | undefined,
    out: undefined as string | undefined,
    mode: 'both' as 'both' | 'interleaved' | 'isolated',
    scenarios: undefined as string[] | undefined,
    chunkings: undefined as Chunking[] | undefined,
    processes: 3,
  };
  const list = (v: string, known: readonly string[], flag: string) => {
    const items = v.split(',').filter(Boolean);
    if (items.length === 0) usageError(`${flag} needs a value`);
    for (const i of items)
      if (!known.includes(i)) usageError(`unknown ${flag} value [${i}]; one of ${known.join(', ')}`);
    return items;
  };
  for (const a of argv) {
    const eq = a.indexOf('=');
    const flag = eq === -1 ? a : a.slice(0, eq);
    const value = eq === -1 ? undefined : a.slice(eq + 1);
    const needs = () => (value === undefined ? usageError(`${flag} needs a value`) : value);
    const none = () => value !== undefined && usageError(`${flag} takes no value`);
    switch (flag) {
      case '--quick':
        none();
        o.quick = true;
        break;
      case '--1g':
        none();
        o.big = true;
        break;
      case '--no-1g':
        none();
        o.big = false;
        break;
      case '--only':
        o.only = new Set(list(needs(), BENCHES, '--only'));
        break;
      case '--out':
        o.out = needs();
        break;
      case '--mode': {
        const m = needs();
        if (m !== 'both' && m !== 'interleaved' && m !== 'isolated') usageError(`unknown --mode [${m}]`);
        o.mode = m;
        break;
      }
      case '--scenarios':
        o.scenarios = list(
          needs(),
          SCENARIOS.map((s) => s.id),
          '--scenarios',
        );
        break;
      case '--chunkings':
        o.chunkings = list(
          needs(),
          CHUNKINGS.map((c) => c.id),
          '--chunkings',
        ) as Chunking[];
        break;
      case '--processes': {
        const n = Number(needs());
        if (!Number.isInteger(n) || n < 1) usageError('--processes needs a whole number >= 1');
        o.processes = n;
        break;
      }
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default:
        usageError(`unknown argument [${a}]`);
    }
  }
  return o;
}

const args = parseArgs(process.argv.slice(2));
const quick = args.quick;
const big = args.big ?? !quick;
const want = (name: string) => args.only === null || args.only.has(name);

// --quick runs must not replace the committed full-run results.
const resultsDir = args.out
  ? args.out.replace(/\/?$/, '/')
  : fileURLToPath(new URL(quick ? './results-quick/' : './results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const machine: MachineInfo = machineInfo();
const subtitle = `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB; Node ${machine.node}; commit ${machine.commit}${machine.dirty ? '+' : ''}; ${machine.date.slice(0, 10)}${quick ? '; --quick' : ''}`;
const log = (line: string) => process.stderr.write(line + '\n');

function save(name: string, data: unknown): void {
  writeFileSync(resultsDir + name + '.json', JSON.stringify({ machine, quick, ...(data as object) }, null, 2) + '\n');
}

function heading(title: string): void {
  console.log(`\n## ${title}\n`);
  console.log(`Machine: ${machineLine(machine)}${quick ? ' (--quick)' : ''}\n`);
}

const started = performance.now();
if (!hasGc()) log('note: run with --expose-gc (npm run bench does) for steadier numbers');

const isHand = (n: string) => n === HAND_SSE || n === HAND_NDJSON || n === HAND_BEDROCK;
const spread = (s: { median: number; min: number; max: number }) => `${fmt(s.min)}–${fmt(s.max)}`;

// ------------------------------------------------------------------ throughput
if (want('throughput')) {
  log(`throughput (${args.mode})…`);
  const groups = await runThroughput({
    quick,
    log,
    mode: args.mode,
    scenarios: args.scenarios,
    chunkings: args.chunkings,
    processes: args.processes,
  });
  heading('Throughput');
  console.log(
    'MB/s = 10^6 bytes of provider input per second. "interleaved": all contenders round robin in one process, median of the passes, ' +
      'min–max of the passes. "own processes": each contender alone in fresh processes (run round robin), median of the per-process medians, min–max of those.\n',
  );
  const targets: Record<string, { interleaved?: number; isolated?: number; target: number }> = {};
  for (const ch of CHUNKINGS) {
    for (const g of groups.filter((x) => x.chunking === ch.id)) {
      const by = (n: string) => g.contenders.find((c) => c.name === n);
      const hand = g.contenders.find((c) => isHand(c.name));
      const fl = by(FLOOR)!;
      const ratio = (c: ContenderResult, ref: ContenderResult | undefined, kind: 'interleaved' | 'isolated') => {
        const a = kind === 'interleaved' ? c.mbps?.median : c.isolated?.mbps.median;
        const b = ref ? (kind === 'interleaved' ? ref.mbps?.median : ref.isolated?.mbps.median) : undefined;
        return a !== undefined && b !== undefined ? a / b : undefined;
      };
      const r2 = (v: number | undefined) => (v === undefined ? '–' : fmt(v, 2));
      console.log(
        `### ${g.framingName}, ${ch.label} (${mib(g.inputBytes)}, ${g.reads.toLocaleString('en-US')} reads, ${g.deltas.toLocaleString('en-US')} deltas)\n`,
      );
      console.log(
        table(
          [
            'contender',
            'MB/s interleaved',
            'min–max',
            'x hand',
            'x parse floor',
            'MB/s own processes',
            'min–max',
            'x hand',
            'x parse floor',
            'young-gen GC share',
          ],
          g.contenders.map((c) => [
            c.name,
            c.mbps ? fmt(c.mbps.median) : '–',
            c.mbps ? spread(c.mbps) : '–',
            r2(ratio(c, hand, 'interleaved')),
            r2(ratio(c, fl, 'interleaved')),
            c.isolated ? fmt(c.isolated.mbps.median) : '–',
            c.isolated ? spread(c.isolated.mbps) : '–',
            r2(ratio(c, hand, 'isolated')),
            r2(ratio(c, fl, 'isolated')),
            c.isolated
              ? `${fmt(c.isolated.gcMinorShare.median * 100, 0)}% (${fmt(c.isolated.gcMinorShare.min * 100, 0)}–${fmt(c.isolated.gcMinorShare.max * 100, 0)}%)`
              : '–',
          ]),
        ),
      );
      console.log();
      const ours = by(OURS_COMPLETION)!;
      const want = (label: string, ref: ContenderResult | undefined, target: number) => {
        if (!ref) return;
        targets[label] = {
          interleaved: ratio(ours, ref, 'interleaved'),
          isolated: ratio(ours, ref, 'isolated'),
          target,
        };
      };
      const hw = (t: number) =>
        want(`${g.framingName}, ${ch.label}: completionStream / hand-written (target >= ${t})`, hand, t);
      if (
        ch.id === 'event' &&
        (g.framing === 'openai' ||
          g.framing === 'openai-compat' ||
          g.framing === 'anthropic' ||
          g.framing === 'cohere' ||
          g.framing === 'ollama')
      )
        hw(2);
      if (g.framing === 'openai-varying' || g.framing === 'openai-many') hw(1.5);
      if (ch.id === '16k' && (g.framing === 'openai' || g.framing === 'openai-compat')) hw(1.5);
      if (ch.id === 'event')
        want(
          `${g.framingName}, ${ch.label}: completionStream / parse floor (target >= ${g.framing === 'bedrock' ? 0.5 : 0.6})`,
          fl,
          g.framing === 'bedrock' ? 0.5 : 0.6,
        );
    }
  }
  console.log('### Targets\n');
  const met = (v: number | undefined, t: number) => (v === undefined ? '–' : v >= t ? 'yes' : 'no');
  console.log(
    table(
      ['ratio', 'interleaved', 'met', 'own processes', 'met'],
      Object.entries(targets).map(([k, v]) => [
        k,
        v.interleaved === undefined ? '–' : fmt(v.interleaved, 2),
        met(v.interleaved, v.target),
        v.isolated === undefined ? '–' : fmt(v.isolated, 2),
        met(v.isolated, v.target),
      ]),
    ),
  );
  save('throughput', { mode: args.mode, groups, targets });
  const chart = (chunking: string, file: string, label: string) => {
    const gs: BarGroup[] = groups
      .filter((g) => g.chunking === chunking)
      .map((g) => ({
        title: g.framingName,
        // PassThrough runs at GB/s in large reads and would flatten every other bar: table only.
        bars: g.contenders
          .filter((c) => c.name !== PASS && (c.isolated ?? c.mbps))
          .map((c) => {
            const s = c.isolated?.mbps ?? c.mbps!;
            return { label: shortName(c.name), value: s.median, lo: s.min, hi: s.max, ours: c.ours };
          }),
      }))
      .filter((g) => g.bars.length > 0);
    if (gs.length === 0) return;
    writeChart(resultsDir + file, {
      title: `Throughput, ${label}`,
      subtitle,
      unit: `MB/s of provider input, median, whiskers min–max (${args.mode === 'interleaved' ? 'interleaved in one process' : 'each contender in its own processes'})`,
      groups: gs,
    });
  };
  chart('event', 'throughput.svg', 'one event per read');
  chart('16k', 'throughput-16k.svg', '16 KiB reads');
  chart('1b', 'throughput-1b.svg', '1-byte reads');
}

function shortName(name: string): string {
  if (name === OURS_COMPLETION) return 'completionStream';
  if (name === OURS_DELTAS) return 'deltaStream';
  if (isHand(name)) return 'hand-written (batching per read)';
  return name
    .replace(/ \+ serialize, one event per delta$/, '')
    .replace(/ \(.*\)$/, '')
    .replace(/^parse floor: JSON.parse only$/, 'parse floor');
}

// ------------------------------------------------------------------ framing worst case
if (want('worst')) {
  log('framing worst case…');
  const rows: WorstRow[] = await runWorstCase({ quick, log });
  heading('Framing worst case: one huge event in small reads');
  console.log('Linear framing keeps MB/s flat as the event grows; a quadratic one loses half its MB/s per doubling.\n');
  console.log(
    table(
      ['contender', 'read size', 'event', 'MB/s', 'ms', 'peak heap growth', 'note'],
      rows.map((r) => [
        r.contender,
        r.readBytes + ' B',
        mib(r.eventBytes),
        fmt(r.mbps, 2),
        fmt(r.ms, 0),
        r.heapGrowth > 0 ? mib(r.heapGrowth) : '< sampling',
        r.stoppedEarly ? `stopped at budget after ${mib(r.bytesDone)}` : '',
      ]),
    ),
  );
  save('worst-case', { rows });
  const gs: BarGroup[] = [];
  for (const key of [...new Set(rows.map((r) => `${r.contender}|${r.readBytes}`))]) {
    const [contender, read] = key.split('|');
    gs.push({
      title: `${contender}, ${read}-byte reads`,
      bars: rows
        .filter((r) => r.contender === contender && String(r.readBytes) === read)
        .map((r) => ({ label: mib(r.eventBytes) + (r.stoppedEarly ? ' (stopped)' : ''), value: r.mbps, ours: r.ours })),
    });
  }
  writeChart(resultsDir + 'worst-case.svg', {
    title: 'One huge event in small reads',
    subtitle,
    unit: 'MB/s',
    groups: gs,
    log: true,
  });
}

// ------------------------------------------------------------------ backpressure and memory
if (want('memory')) {
  log('backpressure and memory…');
  const rows: MemoryRow[] = await runMemory({ quick, big, log });
  heading('Backpressure and memory');
  const b = rows[0]!.bound;
  console.log(
    `Generated OpenAI stream (16 KiB reads) -> completionStream -> consumer. Slow: drains 4 MB/s of output. Stall: stops taking writes halfway, measured once the source is no longer pulled, then released (output checked complete). Bound = writable HWM ${b.writableHighWaterMark} + readable HWM ${b.readableHighWaterMark} + batch limit ${b.maxBatchChars} chars + one event.\n`,
  );
  console.log(
    table(
      [
        'input',
        'consumer',
        'MB/s in',
        'events out',
        'largest event',
        'peak buffered (w + r + batch)',
        'source bytes after stall',
        'RSS growth',
        'heap growth',
        'complete',
      ],
      rows.map((r) => [
        mib(r.inputBytes),
        r.consumer,
        fmt(r.mbps),
        r.outEvents.toLocaleString('en-US'),
        r.largestEvent + ' B',
        `${kib(r.peakBuffered.total)} (${r.peakBuffered.writable} + ${r.peakBuffered.readable} + ${r.peakBuffered.batch})`,
        r.stall ? kib(r.stall.sourceBytesAfterStall) : '–',
        mib(r.memory.rssGrowth),
        mib(r.memory.heapGrowth),
        r.complete ? 'yes' : 'NO',
      ]),
    ),
  );
  save('memory', { rows });
  const gs: BarGroup[] = [
    {
      title: 'Peak bytes buffered inside completionStream (KiB)',
      bars: rows.map((r) => ({
        label: `${mib(r.inputBytes)}, ${r.consumer}`,
        value: r.peakBuffered.total / 1024,
        ours: true,
      })),
    },
    {
      title: 'RSS growth over the run (MiB)',
      bars: rows.map((r) => ({
        label: `${mib(r.inputBytes)}, ${r.consumer}`,
        value: r.memory.rssGrowth / 1048576,
        ours: true,
      })),
    },
  ];
  const bound = (b.writableHighWaterMark + b.readableHighWaterMark + b.maxBatchChars) / 1024;
  gs[0]!.bars.push({ label: 'bound: HWMs + batch limit', value: bound, ours: false });
  writeChart(resultsDir + 'memory.svg', {
    title: 'Backpressure: flat in input size',
    subtitle,
    unit: 'KiB / MiB',
    groups: gs,
  });
}

// ------------------------------------------------------------------ latency
if (want('latency')) {
  log('latency…');
  const rows: LatencyRow[] = await runLatency({ quick, log });
  heading('Latency at 10,000 deltas/s (one event per read)');
  console.log(
    table(
      [
        'setting',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'events written',
        'bytes written',
        'deltas/event',
        'rate achieved',
      ],
      rows.map((r) => [
        r.setting,
        r.p50.toFixed(3),
        r.p90.toFixed(3),
        r.p99.toFixed(3),
        r.p999.toFixed(3),
        r.max.toFixed(2),
        r.eventsWritten.toLocaleString('en-US'),
        r.bytesWritten.toLocaleString('en-US'),
        fmt(r.deltasPerEvent, 1),
        fmt(r.achievedRate, 0) + '/s',
      ]),
    ),
  );
  const def = rows.find((r) => r.maxDelayMs === 0)!;
  console.log(`\nTarget p99 < 1 ms with the default: ${def.p99.toFixed(3)} ms — ${def.p99 < 1 ? 'met' : 'NOT met'}`);
  save('latency', { rows });
  writeChart(resultsDir + 'latency.svg', {
    title: 'Delta in -> SSE out latency at 10k deltas/s',
    subtitle,
    unit: 'ms',
    log: true,
    groups: [
      {
        title: 'p50',
        bars: rows.map((r) => ({ label: shortName(r.setting), value: Math.max(r.p50, 0.0001), ours: r.ours })),
      },
      {
        title: 'p99',
        bars: rows.map((r) => ({ label: shortName(r.setting), value: Math.max(r.p99, 0.0001), ours: r.ours })),
      },
    ],
  });
}

// ------------------------------------------------------------------ micro breakdown
if (want('micro')) {
  log('per-stage micro-benchmarks (tinybench)…');
  const { events, rows } = await runMicro({ quick, log });
  heading(`Per-stage cost per OpenAI event (tinybench, no streams, ${events} events per iteration)`);
  console.log(
    table(
      ['stage', 'ns/event (median)', '±rme'],
      rows.map((r) => [r.stage, fmt(r.nsPerEvent, 0), fmt(r.rmePct, 1) + '%']),
    ),
  );
  save('micro', { events, rows });
  writeChart(resultsDir + 'micro.svg', {
    title: 'Cost per OpenAI event by stage',
    subtitle,
    unit: 'ns per event',
    groups: [
      {
        title: 'stage',
        bars: rows.map((r) => ({ label: r.stage.replace(/ \(.*\)$/, ''), value: r.nsPerEvent, ours: r.ours === true })),
      },
    ],
  });
}

// ------------------------------------------------------------------ HTTP load
if (want('http')) {
  const { runHttpLoad, printHttp } = await import('./http-load.js');
  log('HTTP load…');
  const res = await runHttpLoad({ quick, log });
  heading('HTTP load (loopback)');
  printHttp(res);
  save('http', res);
  writeChart(resultsDir + 'http.svg', {
    title: 'HTTP streaming proxy under load',
    subtitle,
    unit: 'each group on its own scale',
    groups: res.chartGroups,
    perGroupScale: true,
  });
}

// ------------------------------------------------------------------ chat_completion vs completion
if (want('chat')) {
  const { runChatBench } = await import('./chat.js');
  log('chat_completion vs completion…');
  const rows = await runChatBench({ quick });
  heading('chat_completion vs completion (same OpenAI body)');
  console.log(
    table(
      ['reads', 'stream', 'MB/s', 'spread', 'output bytes'],
      rows.map((r) => [
        r.reads,
        r.contender,
        fmt(r.mbps),
        '±' + fmt(r.spreadPct, 0) + '%',
        r.outBytes.toLocaleString('en-US'),
      ]),
    ),
  );
  save('chat', { rows });
}

log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${resultsDir}`);
