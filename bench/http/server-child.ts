/**
 * The proxy under test, in its own process so its CPU and memory are its own:
 * `--mode=ours` (createInferenceHandler, default options but the concurrent-stream limit), `naive` (fetch +
 * getReader + TextDecoder + split + JSON.parse + res.write, the usual hand-written proxy), `passthrough`
 * (undici's body piped into the response as it is: the floor for any proxy), or `ours-workers`
 * (the handler in `--workers=N` node:cluster processes on one port; the primary only forwards connections).
 * `GET /__bench/stats[?gc=1]` reports cpuUsage and memoryUsage. Prints its URL on stdout. The handler is
 * the built library (dist/), as users run it; `--lib=src` runs the TypeScript sources through tsx.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import cluster from 'node:cluster';
import { loadLibrary, passthroughProxy, registerBenchEndpoint } from './proxies.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
// `--lib=dist` (default), `src`, or another checkout's build: see loadLibrary
const lib = await loadLibrary(args.get('lib') ?? 'dist');
const { createInferenceHandler, MemoryRegistry } = lib;
const mode = args.get('mode') ?? 'ours';
const providerUrl = args.get('provider')!;

function stats(req: IncomingMessage, res: ServerResponse): void {
  if (req.url?.includes('gc=1')) (globalThis as { gc?: () => void }).gc?.();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ cpu: process.cpuUsage(), mem: process.memoryUsage() }));
}

/** The proxy people write by hand today. */
async function naive(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = '';
  for await (const b of req) body += b;
  const { input } = JSON.parse(body) as { input: string };
  const upstream = await fetch(providerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: input }] }),
  });
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const reader = upstream.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('data: ')) continue;
      const data = line.slice(6);
      if (data === '[DONE]') continue;
      const text = JSON.parse(data).choices?.[0]?.delta?.content;
      if (text) res.write(`event: message\ndata: ${JSON.stringify({ completion: [{ delta: text }] })}\n\n`);
    }
  }
  res.end('event: message\ndata: [DONE]\n\n');
}

const workers = Number(args.get('workers') ?? 2);
if (mode === 'ours-workers' && cluster.isPrimary) {
  // the primary: N workers, CPU summed over the process tree by the caller (/proc)
  let listening = 0;
  cluster.on('message', (_w, m: { url?: string }) => {
    if (m.url && ++listening === workers) process.stdout.write(m.url + '\n');
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  serveMode();
}

function serveMode(): void {
  let handle: (req: IncomingMessage, res: ServerResponse) => void;
  if (mode === 'passthrough') {
    handle = passthroughProxy(providerUrl);
  } else if (mode === 'ours-workers') {
    // every worker holds the endpoint itself (a memory registry per process)
    const registry = new MemoryRegistry([
      {
        inference_id: 'bench',
        task_type: 'completion',
        service: 'openai',
        service_settings: { api_key: 'k', model_id: 'm', url: providerUrl },
        task_settings: {},
      },
    ]);
    const handler = createInferenceHandler({ registry, limits: { maxConcurrentStreams: 100_000 } });
    handle = (req, res) => handler(req, res);
  } else if (mode === 'naive') {
    handle = (req, res) => {
      naive(req, res).catch(() => res.destroy());
    };
  } else {
    // Default options but for the concurrent-stream limit (256 by default, answered with 429):
    // this measures how many streams the proxy carries, not how it sheds load.
    const handler = createInferenceHandler({ limits: { maxConcurrentStreams: 100_000 } });
    handle = (req, res) => handler(req, res);
  }

  const server = createServer((req, res) => {
    if (req.url?.startsWith('/__bench/stats')) return stats(req, res);
    handle(req, res);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(args.get('port') ?? 0), '127.0.0.1', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (mode === 'ours-workers') {
      process.send!({ url });
      return;
    }
    if (mode === 'ours') await registerBenchEndpoint(url, providerUrl);
    process.stdout.write(url + '\n');
  });
  process.on('SIGTERM', () => process.exit(0));
}
