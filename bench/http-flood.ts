/**
 * Saying no under a flood: `inference-stream serve` (the real CLI, its logging and metrics)
 * with a stream limit, `admitted` clients streaming from the simulated OpenAI provider one
 * stream after another, and, in the second phase, `flood` clients asking for streams in a
 * loop with no pause, almost all answered 429 (over the limit). Reports the admitted
 * streams' time to first delta (p50 / p99) without and with the flood, how many 429s the
 * server answered per second, and the server's CPU ms per 1,000 rejections. Loopback only;
 * bounded in count and time.
 *
 *   node --import tsx bench/http-flood.ts [--seconds=8] [--admitted=50] [--limit=60] [--flood=200]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { percentiles } from './lib/stats.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const SECONDS = Number(args.get('seconds') ?? 8);
const ADMITTED = Number(args.get('admitted') ?? 50);
const LIMIT = Number(args.get('limit') ?? 60);
const FLOOD = Number(args.get('flood') ?? 200);
const DELTAS = 50;
const MARK = '" tok';

function startChild(cmd: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, cmd, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      const m = /(http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${cmd.join(' ')} exited with ${code}`)));
  });
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const provider = await startChild([
  '--import',
  'tsx',
  fileURLToPath(new URL('./http/provider-child.ts', import.meta.url)),
  `--deltas=${DELTAS}`,
  '--interval=10',
]);
const limited = await startChild(
  [
    fileURLToPath(new URL('../bin/inference-stream.js', import.meta.url)),
    'serve',
    '--no-demo',
    '--limit',
    `maxConcurrentStreams=${LIMIT}`,
  ],
  { PORT: '0', INFERENCE_STREAM_LOG_LEVEL: 'info' },
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
  streams: number;
  admittedRefused: number;
  floodRefused: number;
  floodAdmitted: number;
  seconds: number;
  serverCpuMs: number;
}

async function phase(flood: number): Promise<Phase> {
  const streamsAgent = new Agent({ connections: ADMITTED });
  const floodAgent = new Agent({ connections: Math.max(1, flood) });
  const ttfd: number[] = [];
  let streams = 0;
  let admittedRefused = 0;
  let floodRefused = 0;
  let floodAdmitted = 0;
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const cpu0 = cpuMs(limited.child.pid!);
  const admittedClient = async () => {
    while (performance.now() < deadline) {
      const s = performance.now();
      const res = await request(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        dispatcher: streamsAgent,
      });
      if (res.statusCode !== 200) {
        admittedRefused++;
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
  let floodStop = false;
  const floodClient = async () => {
    while (!floodStop) {
      const res = await request(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        dispatcher: floodAgent,
      });
      if (res.statusCode === 429) floodRefused++;
      else floodAdmitted++;
      // a flood client that got in leaves at once, freeing the slot
      if (res.statusCode === 200) res.body.destroy();
      else await res.body.text();
    }
  };
  const floods = Array.from({ length: flood }, () => floodClient().catch(() => undefined));
  await Promise.all(Array.from({ length: ADMITTED }, admittedClient));
  floodStop = true;
  await Promise.all(floods);
  const seconds = (performance.now() - t0) / 1000;
  const serverCpuMs = cpuMs(limited.child.pid!) - cpu0;
  await streamsAgent.close();
  await floodAgent.close();
  return { ttfd, streams, admittedRefused, floodRefused, floodAdmitted, seconds, serverCpuMs };
}

function report(name: string, p: Phase): void {
  const [p50, p99] = percentiles(p.ttfd, [0.5, 0.99]);
  console.log(
    `${name}: ${p.streams} admitted streams, TTFD p50 ${p50!.toFixed(1)} ms p99 ${p99!.toFixed(1)} ms, ` +
      `${p.admittedRefused} of their requests refused; flood: ${Math.round(p.floodRefused / p.seconds)} 429/s ` +
      `(${p.floodRefused} in ${p.seconds.toFixed(1)} s, ${p.floodAdmitted} let in); server CPU ${Math.round(p.serverCpuMs)} ms`,
  );
}

try {
  await phase(0); // warm-up
  const quiet = await phase(0);
  report('no flood  ', quiet);
  const flooded = await phase(FLOOD);
  report(`flood ${FLOOD}`, flooded);
  const extraCpu = flooded.serverCpuMs - quiet.serverCpuMs * (flooded.seconds / quiet.seconds);
  if (flooded.floodRefused > 0)
    console.log(
      `server CPU beyond the quiet phase per 1,000 rejections: ${((extraCpu / flooded.floodRefused) * 1000).toFixed(1)} ms`,
    );
} finally {
  limited.child.kill('SIGTERM');
  provider.child.kill('SIGTERM');
}
