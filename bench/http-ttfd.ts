/**
 * What the proxy adds before the first delta, one stream at a time (no load): each stream
 * through the handler (bench/http/server-child.ts --mode=ours, its own process) is paired
 * with one straight to the simulated OpenAI provider (its own process), alternated, and the
 * time from sending the request to the first delta's bytes compared. Reports the added p50
 * and p90 (of the pairs' differences). Loopback only; bounded in count.
 *
 *   node --import tsx bench/http-ttfd.ts [--streams=250] [--warmup=50] [--lib=dist|src|/other/dist/lib/index.js]
 */
import { Agent, request } from 'undici';
import { buildLibrary, startScript } from './lib/processes.js';
import { percentiles } from './lib/stats.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const STREAMS = Number(args.get('streams') ?? 250);
const WARMUP = Number(args.get('warmup') ?? 50);
const LIB = args.get('lib') ?? 'dist';
const MARK = '" tok';

/** Milliseconds from sending the request to the first delta's bytes; the rest of the stream is read to its end. */
async function firstDelta(agent: Agent, url: string, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await request(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    dispatcher: agent,
  });
  let first = -1;
  let text = '';
  for await (const chunk of res.body) {
    if (first < 0) {
      text += chunk;
      if (text.includes(MARK)) first = performance.now() - t0;
    }
  }
  if (res.statusCode !== 200 || first < 0) throw new Error(`status ${res.statusCode}, no delta`);
  return first;
}

if (LIB === 'dist') buildLibrary();
const provider = await startScript('http/provider-child.ts', ['--deltas=3', '--interval=10']);
const providerUrl = provider.url + '/v1/chat/completions';
const proxy = await startScript('http/server-child.ts', ['--mode=ours', `--provider=${providerUrl}`, `--lib=${LIB}`]);
const agent = new Agent({ connections: 2, keepAliveTimeout: 30_000 });
const direct = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hello' }] });
const added: number[] = [];
const directs: number[] = [];
const proxied: number[] = [];
try {
  for (let i = 0; i < WARMUP + STREAMS; i++) {
    const d = await firstDelta(agent, providerUrl, direct);
    const p = await firstDelta(agent, proxy.url + '/_inference/completion/bench/_stream', '{"input":"hello"}');
    if (i < WARMUP) continue;
    directs.push(d);
    proxied.push(p);
    added.push(p - d);
  }
} finally {
  await agent.close();
  proxy.child.kill('SIGTERM');
  provider.child.kill('SIGTERM');
}
const [a50, a90] = percentiles(added, [0.5, 0.9]);
const [d50] = percentiles(directs, [0.5]);
const [p50] = percentiles(proxied, [0.5]);
console.log(
  `first delta, ${STREAMS} pairs after ${WARMUP} warm-up (lib ${LIB}): direct p50 ${d50!.toFixed(2)} ms, ` +
    `through the handler p50 ${p50!.toFixed(2)} ms; added p50 ${a50!.toFixed(2)} ms, p90 ${a90!.toFixed(2)} ms`,
);
