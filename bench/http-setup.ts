/**
 * The per-request cost of a proxy: streams of one delta (so that setting a request up, not
 * carrying deltas, is what is measured), through the proxy under test in its own process,
 * from a simulated OpenAI provider in another. Reports the proxy's CPU per stream (from
 * /proc, the same for every contender). Every proxy runs for the whole measurement and short
 * rounds alternate between them, so that a change in the machine's load hits all of them
 * alike. Loopback only; bounded in count.
 *
 *   node --import tsx bench/http-setup.ts [--modes=ours,serve,passthrough] [--streams=500]
 *     [--concurrency=20] [--rounds=10] [--warmup=4000] [--deltas=1] [--profile=DIR] [--base=/other/checkout] [--lib=dist,src]
 *
 * Modes: `ours` and `passthrough` as in the HTTP load benchmark (bench/http/server-child.ts),
 * `serve` the CLI (`inference-stream serve`, with its request log and metrics). The library is
 * the built one (dist/, built first), or with `--lib=src` the TypeScript sources through tsx
 * (`--lib=dist,src`: both). `--base=DIR` adds the same modes with another checkout's build
 * (named `base:<mode>`), e.g. main before a change, for a before/after comparison in one run.
 * `--profile=DIR` writes each proxy's CPU profile (`--cpu-prof`, start-up and warm-up included).
 */
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { buildLibrary, cpuMs, startNode, stopProc, type Proc } from './lib/processes.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const MODES = (args.get('modes') ?? 'ours,passthrough').split(',');
const STREAMS = Number(args.get('streams') ?? 500);
const CONCURRENCY = Number(args.get('concurrency') ?? 20);
const ROUNDS = Number(args.get('rounds') ?? 10);
const DELTAS = Number(args.get('deltas') ?? 1);
/** Streams through each proxy before measuring: V8 keeps optimizing a request's path for thousands of them. */
const WARMUP = Number(args.get('warmup') ?? 4000);
const PROFILE = args.get('profile');
const BASE = args.get('base');
const LIBS = (args.get('lib') ?? 'dist').split(',');
const MARK = '" tok';
const here = fileURLToPath(new URL('..', import.meta.url));

async function startProxy(
  mode: string,
  root: string,
  lib: string,
  providerUrl: string,
  profile: boolean,
): Promise<Proc> {
  const prof = profile && PROFILE ? ['--cpu-prof', '--cpu-prof-interval=200', `--cpu-prof-dir=${PROFILE}`] : [];
  if (mode === 'serve') {
    // the CLI's request log is read (and dropped) as a log collector would
    const p = await startNode(
      [...prof, 'bin/inference-stream.js', 'serve', '--no-demo', '--limit', 'maxConcurrentStreams=100000'],
      { cwd: root, env: { PORT: '0', INFERENCE_STREAM_LOG_LEVEL: 'info' }, stderr: 'drain' },
    );
    const put = await request(p.url + '/_inference/completion/bench', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'openai', service_settings: { api_key: 'k', model_id: 'm', url: providerUrl } }),
    });
    await put.body.text();
    if (put.statusCode !== 200) throw new Error(`PUT: ${put.statusCode}`);
    return p;
  }
  // this checkout's server-child, with the library built in `root` (or this checkout's TypeScript sources, `src`)
  return startNode(
    [
      ...prof,
      '--import',
      'tsx',
      here + 'bench/http/server-child.ts',
      `--mode=${mode}`,
      `--provider=${providerUrl}`,
      `--lib=${lib === 'src' ? 'src' : root + '/dist/lib/index.js'}`,
    ],
    { cwd: here, stderr: 'drain' },
  );
}

/** `STREAMS` streams, `CONCURRENCY` at a time; every stream read to its end and checked. */
async function load(url: string, n: number): Promise<void> {
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      const res = await request(url, {
        method: 'POST',
        body: '{"input":"hello"}',
        headers: { 'content-type': 'application/json' },
        dispatcher: agent,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${text.slice(0, 200)}`);
      let d = 0;
      for (let i = text.indexOf(MARK); i !== -1; i = text.indexOf(MARK, i + 1)) d++;
      if (d !== DELTAS) throw new Error(`${d} deltas in a stream, expected ${DELTAS}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await agent.close();
}

buildLibrary();
const provider = await startNode(
  ['--import', 'tsx', 'bench/http/provider-child.ts', `--deltas=${DELTAS}`, '--interval=0'],
  { cwd: here, stderr: 'drain' },
);
const providerUrl = provider.url + '/v1/chat/completions';
const contenders = [
  ...LIBS.flatMap((lib) =>
    MODES.filter((m) => lib === LIBS[0] || (m !== 'passthrough' && m !== 'serve')).map((m) => ({
      name: LIBS.length > 1 && m !== 'passthrough' ? `${m}@${lib}` : m,
      mode: m,
      root: here,
      lib,
    })),
  ),
  ...(BASE ? MODES.map((m) => ({ name: `base:${m}`, mode: m, root: BASE, lib: 'dist' })) : []),
];
const perStream = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
const totals = new Map<string, { cpu0: number; streams: number }>();
// every proxy runs for the whole measurement, and the rounds alternate between them (short
// batches), so that the machine's load, which moves from second to second, weighs on all alike
const proxies: { c: (typeof contenders)[number]; proxy: Proc; url: string }[] = [];
try {
  for (const c of contenders) {
    const proxy = await startProxy(c.mode, c.root, c.lib, providerUrl, PROFILE !== undefined);
    const url = proxy.url + (c.mode === 'passthrough' ? '/' : '/_inference/completion/bench/_stream');
    proxies.push({ c, proxy, url });
    await load(url, WARMUP); // warm-up: JIT, connections on both hops
  }
  for (const { c, proxy } of proxies) totals.set(c.name, { cpu0: cpuMs(proxy.child.pid!), streams: 0 });
  for (let round = 1; round <= ROUNDS; round++) {
    const line: string[] = [];
    for (const { c, proxy, url } of proxies) {
      const cpu0 = cpuMs(proxy.child.pid!);
      await load(url, STREAMS);
      const ms = cpuMs(proxy.child.pid!) - cpu0;
      perStream.get(c.name)!.push(ms / STREAMS);
      totals.get(c.name)!.streams += STREAMS;
      line.push(`${c.name} ${((ms / STREAMS) * 1000).toFixed(0)}`);
    }
    console.log(`round ${round} (µs CPU per stream): ${line.join(', ')}`);
  }
  console.log(`\nCPU per stream of ${DELTAS} delta(s), ${ROUNDS} alternated rounds of ${STREAMS} streams:`);
  console.log('  contender          all rounds   rounds median (min–max)');
  for (const { c, proxy } of proxies) {
    const t = totals.get(c.name)!;
    const xs = [...perStream.get(c.name)!].sort((a, b) => a - b);
    const all = (cpuMs(proxy.child.pid!) - t.cpu0) / t.streams;
    console.log(
      `  ${c.name.padEnd(18)} ${(all * 1000).toFixed(0).padStart(6)} µs   ${(xs[Math.floor(xs.length / 2)]! * 1000).toFixed(0)} µs (${(xs[0]! * 1000).toFixed(0)}–${(xs[xs.length - 1]! * 1000).toFixed(0)})`,
    );
  }
} finally {
  for (const { proxy } of proxies) await stopProc(proxy);
  await stopProc(provider);
}
