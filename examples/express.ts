// The `_inference` API inside an Express app: the handler is middleware, and any path
// that is not under /_inference goes on to the app's own routes.
// Run: npx tsx examples/express.ts
// In your project: import { createInferenceHandler } from 'inference-stream';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createInferenceHandler } from '../lib/index.js';

export async function start(port = 9200): Promise<{ server: Server; url: string }> {
  const app = express();
  // Mounted before any body parser: it reads its own bodies (a parsed req.body works too).
  app.use(createInferenceHandler());
  app.use(express.json());
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { url } = await start(Number(process.env.PORT ?? 9200));
  console.log(`listening on ${url}`);
}
