// The `_inference` API on a plain node:http server.
// Run: npx tsx examples/plain-http.ts   (then PUT an endpoint and stream, see README)
// In your project: import { createInferenceHandler } from 'inference-stream';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createInferenceHandler } from '../lib/index.js';

export async function start(port = 9200): Promise<{ server: Server; url: string }> {
  const handler = createInferenceHandler(); // in-memory endpoints, shared undici Agent
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { url } = await start(Number(process.env.PORT ?? 9200));
  console.log(`listening on ${url}`);
}
