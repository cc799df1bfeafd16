// The `_inference` API inside an Express app, with the keyless `demo` endpoint: the handler is
// middleware, and any path that is not under /_inference goes on to the app's own routes.
// Run: npx tsx examples/express.ts   (listens on $PORT, default 8080)
// In your project: import { createInferenceHandler } from 'inference-stream';
import express from 'express';
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createInferenceHandler } from '../lib/index.js';
import { demoRegistry, listen, runMain, type ExampleOptions } from './demo.js';

export async function start(port: number, options: ExampleOptions = {}): Promise<{ server: Server; url: string }> {
  const demo = await demoRegistry(options);
  const app = express();
  // Mounted before any body parser: it reads its own bodies (a parsed req.body works too).
  app.use(createInferenceHandler({ registry: demo.registry }));
  app.use(express.json());
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  const server = createServer(app);
  server.on('close', () => void demo.close());
  try {
    return { server, url: await listen(server, port) };
  } catch (err) {
    await demo.close();
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(start);
