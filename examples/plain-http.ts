// The `_inference` API on a plain node:http server, with the keyless `demo` endpoint.
// Run: npx tsx examples/plain-http.ts   (listens on $PORT, default 8080)
// In your project: import { createInferenceHandler } from 'inference-stream';
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createInferenceHandler } from '../lib/index.js';
import { demoRegistry, listen, runMain, type ExampleOptions } from './demo.js';

export async function start(port: number, options: ExampleOptions = {}): Promise<{ server: Server; url: string }> {
  const demo = await demoRegistry(options);
  const handler = createInferenceHandler({ registry: demo.registry });
  const server = createServer((req, res) => handler(req, res));
  server.on('close', () => void demo.close());
  try {
    return { server, url: await listen(server, port) };
  } catch (err) {
    await demo.close();
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(start);
