/**
 * Saying no under a flood: `inference-stream serve` (the real CLI, with its logging and
 * metrics) with a stream limit, and clients streaming from the simulated OpenAI provider one
 * stream after another, asking again at once when refused. First as many clients as the
 * limit (nobody refused), then `flood` more (every client over the limit keeps the server
 * answering 429). Reports the admitted streams' time to first delta (p50 / p99) in both
 * phases, the 429s per second, and the server's CPU per 1,000 rejections. Loopback only;
 * bounded in time.
 *
 *   node --import tsx bench/http-flood.ts [--seconds=8] [--limit=50] [--flood=200] [--profile=DIR] [--root=DIR]
 */
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { percentiles } from './lib/stats.js';
import { buildLibrary, cpuMs, startNode } from './lib/processes.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const SECONDS = Number(args.get('seconds') ?? 8);
const LIMIT = Number(args.get('limit') ?? 50);
const FLOOD = Number(args.get('flood') ?? 200);
const DELTAS = 50;
const MARK = '" tok';

/** The server's log lines (JSON): each stream's own time to first delta, measured inside the server. */
const serverLog: { time: number; ttfd: number }[] = [];

/** Reads the server's stderr (JSON lines) into serverLog. */
function serverLogLines(): (chunk: Buffer) => void {
  let partial = '';
  return (b) => {
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const l = JSON.parse(line) as { time?: string; route?: string; status?: number; ttfd_ms?: number };
      if (l.route === 'stream' && l.status === 200 && typeof l.ttfd_ms === 'number')
        serverLog.push({ time: Date.parse(l.time!), ttfd: l.ttfd_ms });
    }
  };
}

// the CLI runs dist/: built now, never stale; `--root=DIR`: another checkout's CLI as built there (a before/after)
const ROOT = args.get('root');
if (ROOT === undefined) buildLibrary();
const provider = await startNode([
  '--import',
  'tsx',
  fileURLToPath(new URL('./http/provider-child.ts', import.meta.url)),
  `--deltas=${DELTAS}`,
  '--interval=10',
]);
const PROFILE = args.get('profile');
const limited = await startNode(
  [
    // --profile=DIR: the server's CPU profile (written when it stops)
    ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : []),
    ROOT !== undefined
      ? `${ROOT}/bin/inference-stream.js`
      : fileURLToPath(new URL('../bin/inference-stream.js', import.meta.url)),
    'serve',
    '--no-demo',
    '--limit',
    `maxConcurrentStreams=${LIMIT}`,
  ],
  { env: { PORT: '0', INFERENCE_STREAM_LOG_LEVEL: 'info' }, stderr: serverLogLines() },
);
const put = await request(limited.url + '/_inference/completion/bench', {
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    service: 'openai',
    service_settings: { api_key: 'k', model_id: 'm', url: provider.url + '/v1/chat/completions' },
  }),
});
if (put.statusCode !== 200) throw new Error(`PUT: ${put.statusCode} ${await put.body.text()}`);
await put.body.text();
const url = limited.url + '/_inference/completion/bench/_stream';
const body = '{"input":"hello"}';

interface Phase {
  ttfd: number[];
  /** The same streams' first delta as the server logged it (from its reading the request to its writing the delta). */
  serverTtfd: number[];
  streams: number;
  refused: number;
  seconds: number;
  serverCpuMs: number;
}

/**
 * `clients` clients, each asking for one stream after another and asking again at once when
 * refused (as clients that retry do), for SECONDS. With as many clients as the limit, nobody is
 * refused; with more, every client over the limit keeps the server answering 429.
 */
async function phase(clients: number): Promise<Phase> {
  const agent = new Agent({ connections: clients });
  const ttfd: number[] = [];
  let streams = 0;
  let refused = 0;
  const t0 = performance.now();
  const wall0 = Date.now();
  const deadline = t0 + SECONDS * 1000;
  const cpu0 = cpuMs(limited.child.pid!);
  const client = async () => {
    while (performance.now() < deadline) {
      const s = performance.now();
      const res = await request(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        dispatcher: agent,
      });
      if (res.statusCode !== 200) {
        if (res.statusCode !== 429) throw new Error(`status ${res.statusCode}`);
        refused++;
        await res.body.text();
        continue;
      }
      let text = '';
      let first = -1;
      for await (const chunk of res.body) {
        text += chunk;
        if (first < 0 && text.includes(MARK)) first = performance.now() - s;
      }
      ttfd.push(first);
      streams++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - t0) / 1000;
  const serverCpuMs = cpuMs(limited.child.pid!) - cpu0;
  await agent.close();
  // the server writes a stream's line when it ends: give the last ones a moment to arrive
  await new Promise((r) => setTimeout(r, 200));
  const serverTtfd = serverLog.filter((l) => l.time >= wall0 && l.time <= wall0 + seconds * 1000).map((l) => l.ttfd);
  return { ttfd, serverTtfd, streams, refused, seconds, serverCpuMs };
}

function report(name: string, p: Phase): void {
  const [p50, p99] = percentiles(p.ttfd, [0.5, 0.99]);
  const [s50, s99] = percentiles(p.serverTtfd, [0.5, 0.99]);
  console.log(
    `${name}: ${p.streams} streams (${Math.round((p.streams * DELTAS) / p.seconds)} deltas/s), ` +
      `first delta p50 ${p50!.toFixed(1)} ms p99 ${p99!.toFixed(1)} ms at the client, ` +
      `${s50!.toFixed(1)} / ${s99!.toFixed(1)} ms in the server; ` +
      `${Math.round(p.refused / p.seconds)} 429/s (${p.refused} in ${p.seconds.toFixed(1)} s); ` +
      `server CPU ${Math.round(p.serverCpuMs)} ms`,
  );
}

try {
  await phase(LIMIT); // warm-up
  const quiet = await phase(LIMIT);
  report(`${LIMIT} clients, limit ${LIMIT}`.padEnd(24), quiet);
  const flooded = await phase(LIMIT + FLOOD);
  report(`${LIMIT + FLOOD} clients, limit ${LIMIT}`.padEnd(24), flooded);
  const deltaCost = quiet.serverCpuMs / Math.max(1, quiet.streams);
  const extraCpu = flooded.serverCpuMs - deltaCost * flooded.streams;
  if (flooded.refused > 0)
    console.log(
      `server CPU per 1,000 rejections (beyond what the admitted streams cost in the quiet phase): ${((extraCpu / flooded.refused) * 1000).toFixed(1)} ms`,
    );
} finally {
  const stopped = new Promise((r) => limited.child.once('exit', r));
  limited.child.kill('SIGTERM');
  await stopped;
  provider.child.kill('SIGTERM');
}
