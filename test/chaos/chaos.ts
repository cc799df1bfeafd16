// `npm run chaos`: an independent run against the real server started by `npm start`, with
// API keys. Misbehaving providers, clients that hang up or stop reading, random bytes on raw
// sockets, requests without or with the wrong key, a planted secret; then SIGTERM with streams
// open. Fails (exit 1) on a crash, a hang, a leaked socket or handle, a leaked secret or a
// provider call that no key allowed. Loopback only; bounded in requests and time.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { request } from 'node:http';
import { hashApiKey } from '../../lib/server/api-keys.js';
import { FAULTS, startBadProvider } from '../helpers/bad-provider.js';
import { SECRET } from '../server/harness.js';
import { registerFaults, rng, runWorkload, type Target } from '../server/workload.js';

const REQUESTS = Number(process.env.CHAOS_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.CHAOS_CONCURRENCY ?? 32);
const RAW_SOCKETS = Number(process.env.CHAOS_RAW ?? 500);
const DEADLINE_MS = Number(process.env.CHAOS_SECONDS ?? 900) * 1000;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);

const problems: string[] = [];
const started = Date.now();
const deadline = setTimeout(() => {
  console.error(`chaos: HANG — not finished after ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS);

const MANAGE = `manage-${SECRET}-key`; // the keys are secrets too: searched for like the provider key
const MONITOR = `monitor-${SECRET}-key`;
const dir = await mkdtemp(join(tmpdir(), 'chaos-'));
const keysFile = join(dir, 'keys.json');
await writeFile(
  keysFile,
  JSON.stringify({
    api_keys: [
      { id: 'ops', key_sha256: hashApiKey(MANAGE), privileges: ['manage_inference'] },
      { id: 'app', key_sha256: hashApiKey(MONITOR), privileges: ['monitor_inference'] },
    ],
  }),
  { mode: 0o600 },
);

const provider = await startBadProvider();
const limits = [
  'firstByteTimeoutMs=400',
  'idleTimeoutMs=400',
  'maxStreamDurationMs=1500',
  'maxFrameBytes=262144',
  'maxConcurrentStreams=200',
];
const server = spawn(
  'npm',
  [
    'start',
    '--silent',
    '--',
    '--port',
    '0',
    '--no-demo',
    '--api-keys',
    keysFile,
    '--shutdown-grace',
    '1500',
    '--retries',
    '2',
    ...limits.flatMap((l) => ['--limit', l]),
  ],
  {
    cwd: new URL('../..', import.meta.url),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOST: '127.0.0.1' },
  },
);
let stdout = '';
let stderr = '';
server.stdout.on('data', (c: Buffer) => (stdout += c));
server.stderr.on('data', (c: Buffer) => (stderr += c));
let exitCode: number | null = null;
const exited = once(server, 'exit').then(([code, signal]) => {
  exitCode = code as number | null;
  if (signal) stderr += `\nnpm ended by ${String(signal)}`;
});
while (!/listening on (http:\/\/\S+)/.test(stdout)) {
  if (exitCode !== null) throw new Error(`server exited (${exitCode}): ${stderr}`);
  await once(server.stdout, 'data');
}
const url = /listening on (http:\/\/\S+)/.exec(stdout)![1]!;
// npm runs a shell that runs node: that node process is the server whose descriptors we count
async function findServerPid(pid: number): Promise<number | null> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => ''))
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  for (const child of children) {
    const found = await findServerPid(Number(child));
    if (found !== null) return found;
  }
  // the deepest process running the CLI (the shell's command line names it too)
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.startsWith('node') && cmdline.includes('inference-stream.js') ? pid : null;
}
const serverPid = await findServerPid(server.pid!);
if (serverPid === null) throw new Error('cannot find the server process under npm');
const fds = async () => (await readdir(`/proc/${serverPid}/fd`)).length;
const rssMiB = async () =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${serverPid}/status`, 'utf8'))![1]) / 1024;

const target: Target = { url, keys: { manage: `ApiKey ${MANAGE}`, monitor: `Bearer ${MONITOR}` } };
await registerFaults(
  target,
  (f) => provider.url(f),
  SECRET,
  FAULTS.filter((f) => f !== 'flaky'),
);
{
  const answer = await fetch(`${url}/_inference/completion/canary`, {
    method: 'PUT',
    headers: { authorization: target.keys!.manage, 'content-type': 'application/json' },
    body: JSON.stringify({
      service: 'openai',
      service_settings: { api_key: SECRET, model_id: 'm', url: `${provider.url('ok')}?canary=1` },
    }),
  });
  if (answer.status !== 200) throw new Error(`canary: ${answer.status} ${await answer.text()}`);
}

/** Random bytes and broken HTTP on raw sockets: each must get an answer or a close, never a hang. */
async function rawChaos(count: number, seed: number): Promise<{ seen: string[] }> {
  const random = rng(seed);
  const port = Number(new URL(url).port);
  const seen: string[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.setTimeout(5000, () => {
      problems.push(`raw socket ${i}: no answer and no close within 5 s`);
      socket.destroy();
    });
    await once(socket, 'connect');
    const bytes = Buffer.alloc(Math.floor(random() * 2048));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
    const prefixes = [
      '',
      'POST /_inference/completion/ok/_stream HTTP/1.1\r\nHost: x\r\n',
      'GET /_inference/_all HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey ',
      'PUT /_inference/x HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n',
    ];
    socket.end(Buffer.concat([Buffer.from(prefixes[i % prefixes.length]!), bytes]));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    await once(socket, 'close');
    seen.push(text);
  }
  return { seen };
}

const warm = await runWorkload(target, {
  count: 300,
  concurrency: CONCURRENCY,
  seed: SEED,
  slow: true,
  secret: SECRET,
});
// the baseline is the idle server: the warm-up's pooled provider connections time out first (30 s)
await provider
  .waitForNoSockets(40_000)
  .catch((err: Error) => problems.push(`provider sockets after the warm-up: ${err.message}`));
const fdsBefore = await fds();
const rssBefore = await rssMiB();
// in two halves, with the server's memory read between them: flat means the second half adds nothing
const half = Math.floor(REQUESTS / 2);
const main = await runWorkload(target, {
  count: half,
  concurrency: CONCURRENCY,
  seed: SEED + 1,
  slow: true,
  secret: SECRET,
});
const rssMiddle = await rssMiB();
const second = await runWorkload(target, {
  count: REQUESTS - half,
  concurrency: CONCURRENCY,
  seed: SEED + 3,
  slow: true,
  secret: SECRET,
});
main.requests += second.requests;
main.bytes += second.bytes;
main.problems.push(...second.problems);
main.leaks.push(...second.leaks);
for (const [k, v] of Object.entries(second.byKind)) main.byKind[k] = (main.byKind[k] ?? 0) + v;
const raw = await rawChaos(RAW_SOCKETS, SEED + 2);
const rssAfter = await rssMiB();
// connections undici opened for requests that were cancelled meanwhile idle in its pool until its
// keep-alive timeout (30 s): they must all be gone after it
await provider.waitForNoSockets(40_000).catch((err: Error) => problems.push(`provider sockets: ${err.message}`));
// the server's own descriptors: let idle keep-alive sockets time out (the provider closes its side after 1 s)
let fdsAfter = await fds();
for (let i = 0; i < 50 && fdsAfter > fdsBefore; i++) {
  await new Promise((r) => setTimeout(r, 100));
  fdsAfter = await fds();
}
if (fdsAfter > fdsBefore) problems.push(`server descriptors: ${fdsBefore} before, ${fdsAfter} after`);
if (rssAfter - rssMiddle > 32)
  problems.push(`server memory grew ${(rssAfter - rssMiddle).toFixed(1)} MiB in the second half`);
for (const t of [warm, main]) problems.push(...t.problems.slice(0, 20));
const canaryCalls = provider.received.filter((r) => r.url.includes('canary')).length;
if (canaryCalls > 0) problems.push(`${canaryCalls} provider call(s) without a valid key`);

// SIGTERM with streams open: they end with an error event within the grace period, exit 0
const streamsOpen: Promise<void>[] = [];
const open = Array.from(
  { length: 5 },
  () =>
    new Promise<string>((resolve) => {
      let markStarted!: () => void;
      streamsOpen.push(new Promise<void>((r) => (markStarted = r)));
      const req = request(`${url}/_inference/completion/stall-mid/_stream`, {
        method: 'POST',
        headers: { authorization: target.keys!.monitor, 'content-type': 'application/json' },
      });
      req.on('error', (e) => {
        markStarted();
        resolve(`error ${e.message}`);
      });
      req.on('response', (res) => {
        markStarted(); // headers: the provider has answered and the stream is open
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => resolve(text));
        res.on('error', () => resolve(text));
      });
      req.end('{"input":"hi"}');
    }),
);
await Promise.all(streamsOpen); // every stream is open before the signal
process.kill(serverPid, 'SIGTERM'); // the node process npm started; npm exits with its code
const shutdownTexts = await Promise.all(open);
await exited;
for (const t of shutdownTexts)
  if (!/event: error|node_closed_exception|sent nothing/.test(t))
    problems.push(`stream at shutdown ended without an error event: ${t.slice(0, 200)}`);
if (exitCode !== 0) problems.push(`server exit code ${exitCode}`);

const everything = [...raw.seen, ...shutdownTexts, stdout, stderr];
const leaks = [
  ...warm.leaks,
  ...main.leaks,
  ...everything
    .filter((t) => t.includes(SECRET))
    .map((t) => t.slice(Math.max(0, t.indexOf(SECRET) - 150), t.indexOf(SECRET) + 50)),
];
if (leaks.length > 0) problems.push(`secret leaked ${leaks.length} time(s): ${leaks[0]}`);

const figures = {
  seed: SEED,
  requests: warm.requests + main.requests,
  client_bytes_received: warm.bytes + main.bytes,
  raw_sockets: RAW_SOCKETS,
  by_kind: main.byKind,
  provider_requests: provider.received.length,
  unauthorised_provider_calls: canaryCalls,
  server_fds: { before: fdsBefore, after: fdsAfter },
  server_rss_mib: { before: Math.round(rssBefore), middle: Math.round(rssMiddle), after: Math.round(rssAfter) },
  shutdown_exit_code: exitCode,
  seconds: Math.round((Date.now() - started) / 1000),
  problems: problems.length,
};
console.log(JSON.stringify(figures, null, 2));
for (const p of problems.slice(0, 40)) console.error(`chaos: ${p}`);
clearTimeout(deadline);
await provider.close();
await rm(dir, { recursive: true, force: true });
process.exit(problems.length === 0 ? 0 : 1);
