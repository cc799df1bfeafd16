/**
 * The handler (as `server-child.ts --mode=ours`, or `--mode=passthrough`) with a CPU or allocation profile of one
 * window: `POST /__bench/profile/start?kind=cpu|alloc` starts it, `POST /__bench/profile/stop`
 * writes it to `--out=FILE` (.cpuprofile or .heapprofile). So a profile holds the measured
 * load only, not start-up and warm-up. Prints its URL on stdout.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
// the built library (dist/, as shipped: run `npm run build` first), `--lib=src` through tsx, or another build's index.js
const libArg = args.get('lib') ?? 'dist';
const { createInferenceHandler } = (
  libArg === 'src'
    ? await import('../../lib/index.js')
    : libArg === 'dist'
      ? await import('../../dist/lib/index.js')
      : await import(pathToFileURL(libArg).href)
) as typeof import('../../lib/index.js');
const providerUrl = args.get('provider')!;
const out = args.get('out') ?? 'profile';
const mode = args.get('mode') ?? 'ours';
const ours = createInferenceHandler({ limits: { maxConcurrentStreams: 100_000 } });
const passAgent = new Agent({ connections: 4096, keepAliveTimeout: 30_000 });
/** As server-child.ts's pass-through proxy: undici's body piped into the response. */
async function passthrough(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = '';
  for await (const b of req) body += b;
  const { input } = JSON.parse(body) as { input: string };
  const upstream = await request(providerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: input }] }),
    dispatcher: passAgent,
  });
  res.writeHead(upstream.statusCode, { 'content-type': 'text/event-stream' });
  upstream.body.pipe(res);
  res.once('close', () => upstream.body.destroy());
}
const handler =
  mode === 'passthrough'
    ? (req: IncomingMessage, res: ServerResponse) => void passthrough(req, res).catch(() => res.destroy())
    : ours;
const session = new Session();
session.connect();
let kind = 'cpu';

const server = createServer((req, res) => {
  if (req.url?.startsWith('/__bench/profile/')) {
    req.resume();
    void (async () => {
      if (req.url!.includes('/start')) {
        kind = req.url!.includes('kind=alloc') ? 'alloc' : 'cpu';
        if (kind === 'cpu') {
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: 100 });
          await session.post('Profiler.start');
        } else {
          await session.post('HeapProfiler.enable');
          await session.post('HeapProfiler.startSampling', {
            samplingInterval: 512,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
          } as never);
        }
      } else if (kind === 'cpu') {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(out + '.cpuprofile', JSON.stringify(profile));
      } else {
        const { profile } = await session.post('HeapProfiler.stopSampling');
        writeFileSync(out + '.heapprofile', JSON.stringify(profile));
      }
      res.end('ok');
    })();
    return;
  }
  handler(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', async () => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r = await fetch(url + '/_inference/completion/bench', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'openai', service_settings: { api_key: 'k', model_id: 'm', url: providerUrl } }),
  });
  if (!r.ok) throw new Error(`endpoint registration failed: ${r.status}`);
  process.stdout.write(url + '\n');
});
process.on('SIGTERM', () => process.exit(0));
