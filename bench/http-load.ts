import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { buildLibrary, startScript, stopProc, type Proc } from './lib/processes.js';
import { percentiles } from './lib/stats.js';
import { fmt } from './lib/stats.js';
import { table } from './lib/table.js';
import type { BarGroup } from './lib/svg.js';

/**
 * HTTP load on loopback: a simulated OpenAI provider (own process) streaming `DELTAS` chunks
 * per request at a model's pace, the proxy under test (own process, so its CPU and memory
 * are its own), and an undici client here holding C concurrent streams, bounded in count
 * and in time. Contenders: the provider called directly, our handler (one process, and in
 * node:cluster workers), the naive proxy, a pass-through proxy (undici's body piped into the
 * response: the floor), and the Portkey AI gateway (its own server, OpenAI format in and out).
 */

const DELTAS = 50;
const INTERVAL_MS = 10;
const MARK = '" tok';

interface ServerStats {
  cpu: { user: number; system: number };
  mem: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
}

/** CPU (user + system, ms) of a process and its children, from /proc (Linux): for contenders without a stats route. */
function procTreeCpuMs(pid: number): number {
  const tick = 10; // USER_HZ = 100 on Linux
  const one = (p: number): number => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * tick; // utime, stime
    } catch {
      return 0;
    }
  };
  let total = one(pid);
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean))
      total += procTreeCpuMs(Number(child));
  } catch {
    // no children file: the process alone
  }
  return total;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** The Portkey gateway (npm @portkey-ai/gateway, hono 4.9.7 / @hono/node-server 1.13.5 pinned so that it streams). */
async function startPortkey(): Promise<Proc> {
  const port = await freePort();
  const script = fileURLToPath(new URL('../node_modules/@portkey-ai/gateway/build/start-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, `--port=${port}`, '--headless'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`portkey exited with ${child.exitCode}`);
    try {
      const r = await request(url + '/');
      await r.body.text();
      if (r.statusCode === 200) return { child, url };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('portkey did not start within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function serverStats(base: string, gc = false): Promise<ServerStats> {
  const r = await request(base + '/__bench/stats' + (gc ? '?gc=1' : ''));
  return (await r.body.json()) as ServerStats;
}

export interface LoadRow {
  contender: string;
  ours: boolean;
  concurrency: number;
  streams: number;
  seconds: number;
  streamsPerSec: number;
  deltasPerSec: number;
  ttfdP50: number;
  ttfdP99: number;
  /** (heap + external + array buffers) after a GC with all streams open, minus the same idle, per stream. */
  memPerOpenStreamKiB: number | null;
  /** Median time-to-first-delta minus the direct call's, at the same concurrency. */
  addedTtfdP50: number | null;
  addedTtfdP99: number | null;
  cpuMsPer1000Deltas: number | null;
  peakRssMiB: number | null;
  errors: number;
  stoppedAtTimeLimit: boolean;
}

async function load(
  dispatcher: Agent,
  url: string,
  body: string,
  concurrency: number,
  maxStreams: number,
  maxSeconds: number,
  onSample?: () => Promise<void>,
  onAllOpen?: () => Promise<void>,
  headers: Record<string, string> = {},
): Promise<{ streams: number; deltas: number; seconds: number; ttfd: number[]; errors: number; timedOut: boolean }> {
  const ttfd: number[] = [];
  let open = 0;
  let allOpenSeen: Promise<void> | null = null;
  let started = 0;
  let streams = 0;
  let deltas = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + maxSeconds * 1000;
  let timedOut = false;
  const one = async () => {
    const s = performance.now();
    const res = await request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
      dispatcher,
    });
    if (res.statusCode !== 200) {
      await res.body.text();
      throw new Error(`status ${res.statusCode}`);
    }
    open++;
    if (open >= Math.ceil(concurrency * 0.9) && onAllOpen && allOpenSeen === null) allOpenSeen = onAllOpen();
    let text = '';
    let first = -1;
    for await (const chunk of res.body) {
      text += chunk;
      if (first < 0 && text.includes(MARK)) first = performance.now() - s;
    }
    let n = 0;
    for (let i = text.indexOf(MARK); i !== -1; i = text.indexOf(MARK, i + 1)) n++;
    open--;
    if (n !== DELTAS) throw new Error(`${n} deltas in a stream, expected ${DELTAS}`);
    ttfd.push(first);
    deltas += n;
    streams++;
  };
  const worker = async () => {
    while (started < maxStreams) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      started++;
      try {
        await one();
      } catch {
        errors++;
      }
    }
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling && onSample) {
      await onSample();
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  sampling = false;
  await sampler;
  await allOpenSeen;
  return { streams, deltas, seconds, ttfd, errors, timedOut };
}

export interface HttpResult {
  deltasPerStream: number;
  intervalMs: number;
  rows: LoadRow[];
  chartGroups: BarGroup[];
}

export async function runHttpLoad(opts: { quick: boolean; log: (l: string) => void }): Promise<HttpResult> {
  buildLibrary();
  const provider = await startScript(
    'http/provider-child.ts',
    [`--deltas=${DELTAS}`, `--interval=${INTERVAL_MS}`],
    ['--expose-gc'],
  );
  const providerUrl = provider.url + '/v1/chat/completions';
  const plans = [
    { concurrency: 100, streams: opts.quick ? 300 : 1500, seconds: opts.quick ? 8 : 20 },
    { concurrency: 1000, streams: opts.quick ? 1500 : 5000, seconds: opts.quick ? 10 : 25 },
  ];
  const only = process.env.BENCH_HTTP_CONTENDERS?.split(',');
  const contenders = [
    { name: 'provider called directly', ours: false, mode: null as string | null },
    { name: 'inference-stream handler (createInferenceHandler)', ours: true, mode: 'ours' },
    { name: 'inference-stream handler, 2 workers (node:cluster)', ours: true, mode: 'ours-workers' },
    { name: 'pass-through proxy (undici body piped into the response)', ours: false, mode: 'passthrough' },
    { name: 'naive proxy (fetch + getReader + split + JSON.parse + res.write)', ours: false, mode: 'naive' },
    { name: 'Portkey AI gateway 1.15.2 (OpenAI format out)', ours: false, mode: 'portkey' },
  ].filter((c) => c.mode === null || !only || only.includes(c.mode));
  const rows: LoadRow[] = [];
  try {
    for (const plan of plans) {
      let direct: LoadRow | null = null;
      for (const c of contenders) {
        const portkey = c.mode === 'portkey';
        const server = portkey
          ? await startPortkey()
          : c.mode
            ? await startScript(
                'http/server-child.ts',
                [
                  `--mode=${c.mode}`,
                  `--provider=${providerUrl}`,
                  // BENCH_HTTP_LIB: another build of the library (…/dist/lib/index.js, e.g. main's before a change) or `src`
                  ...(process.env.BENCH_HTTP_LIB ? [`--lib=${process.env.BENCH_HTTP_LIB}`] : []),
                ],
                ['--expose-gc'],
              )
            : null;
        // the stats route reports CPU and memory; Portkey and the workers are measured from /proc (CPU only)
        const statsRoute = server !== null && !portkey && c.mode !== 'ours-workers';
        try {
          const openai = !server || portkey;
          const url = portkey
            ? server!.url + '/v1/chat/completions'
            : server
              ? server.url + '/_inference/completion/bench/_stream'
              : providerUrl;
          const body = openai
            ? JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hello' }] })
            : '{"input":"hello"}';
          const headers: Record<string, string> = portkey
            ? {
                'x-portkey-provider': 'openai',
                'x-portkey-custom-host': provider.url + '/v1',
                authorization: 'Bearer k',
              }
            : {};
          const client = new Agent({ connections: plan.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
          // Warm-up at full concurrency: JIT, and every connection on both hops already open.
          await load(client, url, body, plan.concurrency, plan.concurrency, 30, undefined, undefined, headers);
          const before = statsRoute ? await serverStats(server!.url, true) : null;
          const cpuBefore = server && !statsRoute ? procTreeCpuMs(server.child.pid!) : 0;
          let peakRss = 0;
          let openHeap = -1;
          const allOpen = statsRoute
            ? async () => {
                const s = await serverStats(server!.url, true);
                openHeap = s.mem.heapUsed + s.mem.external + s.mem.arrayBuffers;
              }
            : undefined;
          const sample = statsRoute
            ? async () => {
                const s = await serverStats(server!.url);
                if (s.mem.rss > peakRss) peakRss = s.mem.rss;
              }
            : undefined;
          const r = await load(
            client,
            url,
            body,
            plan.concurrency,
            plan.streams,
            plan.seconds,
            sample,
            allOpen,
            headers,
          );
          await client.close();
          const after = statsRoute ? await serverStats(server!.url) : null;
          const [p50, p99] = percentiles(r.ttfd, [0.5, 0.99]);
          const cpuMs =
            before && after
              ? (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000
              : server && !statsRoute
                ? procTreeCpuMs(server.child.pid!) - cpuBefore
                : null;
          const row: LoadRow = {
            contender: c.name,
            ours: c.ours,
            concurrency: plan.concurrency,
            streams: r.streams,
            seconds: r.seconds,
            streamsPerSec: r.streams / r.seconds,
            deltasPerSec: r.deltas / r.seconds,
            ttfdP50: p50!,
            ttfdP99: p99!,
            addedTtfdP50: direct ? p50! - direct.ttfdP50 : null,
            addedTtfdP99: direct ? p99! - direct.ttfdP99 : null,
            cpuMsPer1000Deltas: cpuMs !== null && r.deltas > 0 ? cpuMs / (r.deltas / 1000) : null,
            memPerOpenStreamKiB:
              before && openHeap >= 0
                ? (openHeap - (before.mem.heapUsed + before.mem.external + before.mem.arrayBuffers)) /
                  1024 /
                  plan.concurrency
                : null,
            peakRssMiB: before ? peakRss / 1048576 : null,
            errors: r.errors,
            stoppedAtTimeLimit: r.timedOut,
          };
          if (!c.mode) direct = row;
          rows.push(row);
          opts.log(
            `  c=${plan.concurrency} ${c.name}: ${fmt(row.streamsPerSec)} streams/s, ${fmt(row.deltasPerSec, 0)} deltas/s, TTFD p50 ${row.ttfdP50.toFixed(2)} ms p99 ${row.ttfdP99.toFixed(2)} ms` +
              (row.cpuMsPer1000Deltas !== null ? `, ${row.cpuMsPer1000Deltas.toFixed(1)} CPU ms/1k deltas` : '') +
              (row.errors ? `, ${row.errors} errors` : ''),
          );
        } finally {
          if (server) await stopProc(server);
        }
      }
    }
  } finally {
    await stopProc(provider);
  }
  const chartGroups: BarGroup[] = [];
  for (const p of plans) {
    const at = rows.filter((r) => r.concurrency === p.concurrency);
    chartGroups.push({
      title: `${p.concurrency} concurrent streams: deltas/s`,
      bars: at.map((r) => ({ label: shortLabel(r.contender), value: r.deltasPerSec, ours: r.ours })),
    });
    chartGroups.push({
      title: `${p.concurrency} concurrent streams: proxy CPU ms per 1,000 deltas (lower is better)`,
      bars: at
        .filter((r) => r.cpuMsPer1000Deltas !== null)
        .map((r) => ({ label: shortLabel(r.contender), value: r.cpuMsPer1000Deltas!, ours: r.ours })),
    });
  }
  return { deltasPerStream: DELTAS, intervalMs: INTERVAL_MS, rows, chartGroups };
}

function shortLabel(name: string): string {
  return name
    .replace(' (fetch + getReader + split + JSON.parse + res.write)', '')
    .replace(' (undici body piped into the response)', '')
    .replace(' (OpenAI format out)', '')
    .replace(' (node:cluster)', '')
    .replace('inference-stream handler', 'handler');
}

export function printHttp(res: HttpResult): void {
  console.log(
    `Each stream: ${res.deltasPerStream} deltas, ${res.intervalMs} ms apart (provider pace). Client, proxy and provider share the 2 cores. Memory per open stream: the proxy's heap + external + array buffers after a GC with all streams open, minus the same at rest, divided by the streams.\n`,
  );
  console.log(
    table(
      [
        'contender',
        'concurrent',
        'streams',
        'streams/s',
        'deltas/s',
        'TTFD p50 ms',
        'TTFD p99 ms',
        'added p50 ms',
        'added p99 ms',
        'CPU ms / 1k deltas',
        'memory / open stream',
        'peak RSS',
        'errors',
      ],
      res.rows.map((r) => [
        r.contender,
        r.concurrency,
        r.streams + (r.stoppedAtTimeLimit ? ' (time limit)' : ''),
        fmt(r.streamsPerSec),
        fmt(r.deltasPerSec, 0),
        r.ttfdP50.toFixed(2),
        r.ttfdP99.toFixed(2),
        r.addedTtfdP50 === null ? '–' : r.addedTtfdP50.toFixed(2),
        r.addedTtfdP99 === null ? '–' : r.addedTtfdP99.toFixed(2),
        r.cpuMsPer1000Deltas === null ? '–' : r.cpuMsPer1000Deltas.toFixed(1),
        r.memPerOpenStreamKiB === null ? '–' : r.memPerOpenStreamKiB.toFixed(1) + ' KiB',
        r.peakRssMiB === null ? '–' : r.peakRssMiB.toFixed(0) + ' MiB',
        r.errors,
      ]),
    ),
  );
}
