/**
 * `npm run bench [-- --quick] [-- --only=throughput,worst,memory,latency,micro,http,chat] [-- --no-1g] [-- --out=DIR]`
 *
 * Every benchmark on generated data (no network beyond loopback), a table per benchmark with
 * the machine, `bench/results/<name>.json` and `bench/results/<name>.svg` for the README.
 * Figures are medians of several runs with their spread; ratios come from the same run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineInfo, machineLine, type MachineInfo } from './lib/machine.js';
import { fmt, kib, mib } from './lib/stats.js';
import { table } from './lib/table.js';
import { writeChart, type BarGroup } from './lib/svg.js';
import { hasGc } from './lib/timing.js';
import { AI_SDK, AI_SDK_ZOD, CHUNKINGS, FLOOR, OURS_COMPLETION, OURS_DELTAS, PASS, runThroughput } from './throughput.js';
import { runWorstCase, type WorstRow } from './worst-case.js';
import { runMemory, type MemoryRow } from './memory.js';
import { runLatency, type LatencyRow } from './latency.js';
import { runMicro } from './micro.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice(7).split(',')) : null;
const big = argv.includes('--1g') || (!quick && !argv.includes('--no-1g'));
const want = (name: string) => only === null || only.has(name);

const outArg = argv.find((a) => a.startsWith('--out='));
// --quick runs would otherwise replace the committed full-run results.
const resultsDir = outArg ? outArg.slice(6).replace(/\/?$/, '/') : fileURLToPath(new URL('./results/', import.meta.url));
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

// ------------------------------------------------------------------ throughput
if (want('throughput')) {
  log('throughput…');
  const groups = await runThroughput({ quick, log });
  heading('Throughput');
  console.log('MB/s = 10^6 bytes of provider input per second, median of the runs; spread ±x% = half of (max - min) / median. All contenders interleaved round-robin in one process.\n');
  const targets: Record<string, number> = {};
  for (const ch of CHUNKINGS) {
    for (const g of groups.filter((x) => x.chunking === ch.id)) {
      const by = (n: string) => g.contenders.find((c) => c.name === n);
      const hand = g.contenders.find((c) => c.name.startsWith('hand-written'));
      const sdk = by(AI_SDK);
      const fl = by(FLOOR)!;
      console.log(`### ${g.framingName}, ${ch.label} (${mib(g.inputBytes)}, ${g.reads.toLocaleString('en-US')} reads, ${g.deltas.toLocaleString('en-US')} deltas${g.provider ? `, provider ${g.provider}` : ', no provider in lib yet'})\n`);
      console.log(
        table(
          ['contender', 'MB/s', 'spread', 'deltas/s', 'x hand-written', 'x AI SDK', '% of floor'],
          g.contenders.map((c) => [
            c.name,
            fmt(c.mbps.median),
            '±' + fmt(c.ms.spreadPct / 2, 0) + '%',
            fmt(c.deltasPerSec.median, 0),
            hand ? fmt(c.mbps.median / hand.mbps.median, 2) : '–',
            sdk ? fmt(c.mbps.median / sdk.mbps.median, 2) : '–',
            fmt((c.mbps.median / fl.mbps.median) * 100, 0) + '%',
          ]),
        ),
      );
      console.log();
      if ((g.framing === 'openai-sse' || g.framing === 'openai-compat-sse') && g.chunking === 'event') {
        for (const ours of [OURS_COMPLETION, OURS_DELTAS]) {
          const o = by(ours)!;
          const key = `${g.framing === 'openai-sse' ? 'OpenAI' : 'OpenAI-compatible'}: ${ours === OURS_COMPLETION ? 'completionStream' : 'deltaStream'}`;
          if (hand) targets[`${key} / hand-written (target >= 2)`] = o.mbps.median / hand.mbps.median;
          if (sdk) targets[`${key} / AI SDK (target >= 2)`] = o.mbps.median / sdk.mbps.median;
          const zod = by(AI_SDK_ZOD);
          if (zod) targets[`${key} / AI SDK + zod (target >= 2)`] = o.mbps.median / zod.mbps.median;
          targets[`${key} / floor (target >= 0.6)`] = o.mbps.median / fl.mbps.median;
        }
        targets[`${g.framing === 'openai-sse' ? 'OpenAI' : 'OpenAI-compatible'}: PassThrough / floor (no parsing at all)`] = by(PASS)!.mbps.median / fl.mbps.median;
      }
    }
  }
  console.log('### Targets (OpenAI SSE, one event per read; api.openai.com adds a random obfuscation field to every chunk, compatible servers do not)\n');
  console.log(table(['ratio', 'measured', 'met'], Object.entries(targets).map(([k, v]) => {
    const t = /target >= ([\d.]+)/.exec(k);
    return [k, fmt(v, 2), t ? (v >= Number(t[1]) ? 'yes' : 'no') : '–'];
  })));
  save('throughput', { groups, targets });
  const chart = (chunking: string, file: string, label: string) => {
    const gs: BarGroup[] = groups
      .filter((g) => g.chunking === chunking)
      .map((g) => ({
        title: g.framingName,
        // PassThrough runs at GB/s in large reads and would flatten every other bar: table only.
        bars: g.contenders.filter((c) => c.name !== PASS).map((c) => ({ label: shortName(c.name), value: c.mbps.median, lo: c.mbps.min, hi: c.mbps.max, ours: c.ours })),
      }));
    writeChart(resultsDir + file, { title: `Throughput, ${label}`, subtitle, unit: 'MB/s of provider input, median, whiskers min–max', groups: gs });
  };
  chart('event', 'throughput.svg', 'one event per read');
  chart('16k', 'throughput-16k.svg', '16 KiB reads');
  chart('1b', 'throughput-1b.svg', '1-byte reads');
}

function shortName(name: string): string {
  return name
    .replace('hand-written: eventsource-parser + JSON.parse/stringify + Transform', 'hand-written (eventsource-parser)')
    .replace('hand-written: split2(JSON.parse) + Transform', 'hand-written (split2)')
    .replace('reference: PassThrough (stream hops, no parsing)', 'PassThrough only (no parsing)')
    .replace('floor: JSON.parse only (pre-split)', 'floor: JSON.parse only');
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
      rows.map((r) => [r.contender, r.readBytes + ' B', mib(r.eventBytes), fmt(r.mbps, 2), fmt(r.ms, 0), r.heapGrowth > 0 ? mib(r.heapGrowth) : '< sampling', r.stoppedEarly ? `stopped at budget after ${mib(r.bytesDone)}` : '']),
    ),
  );
  save('worst-case', { rows });
  const gs: BarGroup[] = [];
  for (const key of [...new Set(rows.map((r) => `${r.contender}|${r.readBytes}`))]) {
    const [contender, read] = key.split('|');
    gs.push({
      title: `${contender}, ${read}-byte reads`,
      bars: rows.filter((r) => r.contender === contender && String(r.readBytes) === read).map((r) => ({ label: mib(r.eventBytes) + (r.stoppedEarly ? ' (stopped)' : ''), value: r.mbps, ours: r.ours })),
    });
  }
  writeChart(resultsDir + 'worst-case.svg', { title: 'One huge event in small reads', subtitle, unit: 'MB/s', groups: gs, log: true });
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
      ['input', 'consumer', 'MB/s in', 'events out', 'largest event', 'peak buffered (w + r + batch)', 'source bytes after stall', 'RSS growth', 'heap growth', 'complete'],
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
    { title: 'Peak bytes buffered inside completionStream (KiB)', bars: rows.map((r) => ({ label: `${mib(r.inputBytes)}, ${r.consumer}`, value: r.peakBuffered.total / 1024, ours: true })) },
    { title: 'RSS growth over the run (MiB)', bars: rows.map((r) => ({ label: `${mib(r.inputBytes)}, ${r.consumer}`, value: r.memory.rssGrowth / 1048576, ours: true })) },
  ];
  const bound = (b.writableHighWaterMark + b.readableHighWaterMark + b.maxBatchChars) / 1024;
  gs[0]!.bars.push({ label: 'bound: HWMs + batch limit', value: bound, ours: false });
  writeChart(resultsDir + 'memory.svg', { title: 'Backpressure: flat in input size', subtitle, unit: 'KiB / MiB', groups: gs });
}

// ------------------------------------------------------------------ latency
if (want('latency')) {
  log('latency…');
  const rows: LatencyRow[] = await runLatency({ quick, log });
  heading('Latency at 10,000 deltas/s (one event per read)');
  console.log(
    table(
      ['setting', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'events written', 'bytes written', 'deltas/event', 'rate achieved'],
      rows.map((r) => [r.setting, r.p50.toFixed(3), r.p90.toFixed(3), r.p99.toFixed(3), r.p999.toFixed(3), r.max.toFixed(2), r.eventsWritten.toLocaleString('en-US'), r.bytesWritten.toLocaleString('en-US'), fmt(r.deltasPerEvent, 1), fmt(r.achievedRate, 0) + '/s']),
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
      { title: 'p50', bars: rows.map((r) => ({ label: shortName(r.setting), value: Math.max(r.p50, 0.0001), ours: r.ours })) },
      { title: 'p99', bars: rows.map((r) => ({ label: shortName(r.setting), value: Math.max(r.p99, 0.0001), ours: r.ours })) },
    ],
  });
}

// ------------------------------------------------------------------ micro breakdown
if (want('micro')) {
  log('per-stage micro-benchmarks (tinybench)…');
  const { events, rows } = await runMicro({ quick, log });
  heading(`Per-stage cost per OpenAI event (tinybench, no streams, ${events} events per iteration)`);
  console.log(table(['stage', 'ns/event (median)', '±rme'], rows.map((r) => [r.stage, fmt(r.nsPerEvent, 0), fmt(r.rmePct, 1) + '%'])));
  save('micro', { events, rows });
  writeChart(resultsDir + 'micro.svg', { title: 'Cost per OpenAI event by stage', subtitle, unit: 'ns per event', groups: [{ title: 'stage', bars: rows.map((r) => ({ label: r.stage.replace(/ \(.*\)$/, ''), value: r.nsPerEvent, ours: r.ours === true })) }] });
}

// ------------------------------------------------------------------ HTTP load
if (want('http')) {
  const { runHttpLoad, printHttp } = await import('./http-load.js');
  log('HTTP load…');
  const res = await runHttpLoad({ quick, log });
  heading('HTTP load (loopback)');
  printHttp(res);
  save('http', res);
  writeChart(resultsDir + 'http.svg', { title: 'HTTP streaming proxy under load', subtitle, unit: 'each group on its own scale', groups: res.chartGroups, perGroupScale: true });
}

// ------------------------------------------------------------------ chat_completion vs completion
if (want('chat')) {
  const { runChatBench } = await import('./chat.js');
  log('chat_completion vs completion…');
  const rows = await runChatBench({ quick });
  heading('chat_completion vs completion (same OpenAI body)');
  console.log(table(['reads', 'stream', 'MB/s', 'spread', 'output bytes'], rows.map((r) => [r.reads, r.contender, fmt(r.mbps), '±' + fmt(r.spreadPct, 0) + '%', r.outBytes.toLocaleString('en-US')])));
  save('chat', { rows });
}

log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${resultsDir}`);
