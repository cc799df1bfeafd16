// What the examples share: a registry holding the keyless `demo` endpoint, backed by a simulated
// provider that streams OpenAI's format from this process (the one `npx inference-stream serve` has),
// and listen() that reports a busy port as an error instead of failing later.
// In your project, register real endpoints instead: PUT /_inference/completion/<id>.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryRegistry } from '../lib/index.js';
import { startDemoProvider } from '../lib/server/demo-provider.js';

export interface ExampleOptions {
  /** Token rate of the simulated provider behind `demo`. Default 40. */
  demoTokensPerSecond?: number;
}

/** A registry with the `demo` endpoint, and a function that stops its simulated provider. */
export async function demoRegistry(
  options: ExampleOptions = {},
): Promise<{ registry: MemoryRegistry; close: () => Promise<void> }> {
  const demo = await startDemoProvider({ tokensPerSecond: options.demoTokensPerSecond });
  const registry = new MemoryRegistry([
    {
      inference_id: 'demo',
      task_type: 'completion',
      service: 'openai',
      service_settings: { model_id: 'demo-1', url: demo.url, api_key: 'demo' },
      task_settings: {},
    },
  ]);
  return { registry, close: () => demo.close() };
}

/** Listens on 127.0.0.1:port; rejects with the listen error (EADDRINUSE, EACCES) and resolves with the URL. */
export function listen(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** The port from $PORT (default 8080, so as not to clash with `npm start` on 9200). */
export function portFromEnv(): number {
  return Number(process.env.PORT ?? 8080);
}

/** Runs an example as a script: prints `listening on URL`, or a clear message and exit status 1. */
export async function runMain(start: (port: number) => Promise<{ url: string }>): Promise<void> {
  const port = portFromEnv();
  try {
    const { url } = await start(port);
    console.log(
      `listening on ${url} (try: curl -N ${url}/_inference/completion/demo/_stream -d '{"input":"hi"}' -H 'content-type: application/json')`,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      console.error(`port ${port} is already in use: set PORT to another port (PORT=0 picks a free one)`);
    else console.error(`cannot start: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
