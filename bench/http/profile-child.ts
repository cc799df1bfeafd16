/**
 * The handler (as `server-child.ts --mode=ours`, or `--mode=passthrough`) with a CPU or allocation profile of one
 * window: `POST /__bench/profile/start?kind=cpu|alloc` starts it, `POST /__bench/profile/stop`
 * writes it to `--out=FILE` (.cpuprofile or .heapprofile). So a profile holds the measured
 * load only, not start-up and warm-up. Prints its URL on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadLibrary, passthroughProxy, registerBenchEndpoint } from './proxies.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const { createInferenceHandler } = await loadLibrary(args.get('lib') ?? 'dist');
const providerUrl = args.get('provider')!;
const out = args.get('out') ?? 'profile';
const mode = args.get('mode') ?? 'ours';
const ours = createInferenceHandler({ limits: { maxConcurrentStreams: 100_000 } });
const handler = mode === 'passthrough' ? passthroughProxy(providerUrl) : ours;
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
  if (mode !== 'passthrough') await registerBenchEndpoint(url, providerUrl);
  process.stdout.write(url + '\n');
});
process.on('SIGTERM', () => process.exit(0));
