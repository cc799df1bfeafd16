import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeSharedAgent } from '../client/agent.js';
import { MemoryRegistry } from '../registry/memory.js';
import type { EndpointRegistry } from '../registry/types.js';
import { startDemoProvider, type DemoProvider } from './demo-provider.js';
import { createInferenceHandler, type InferenceHandlerOptions } from './handler.js';

export interface InferenceServerOptions extends InferenceHandlerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9200; 0 picks a free port. */
  port?: number;
  /** Add the `demo` endpoint backed by the embedded simulated provider. Default true. */
  demo?: boolean | { tokensPerSecond?: number };
}

export interface InferenceServer {
  server: Server;
  registry: EndpointRegistry;
  /** `http://HOST:PORT` with the real port. */
  url: string;
  close(): Promise<void>;
}

/** The `_inference` API on its own HTTP server, with the `demo` endpoint unless turned off. */
export async function startInferenceServer(options: InferenceServerOptions = {}): Promise<InferenceServer> {
  const registry = options.registry ?? new MemoryRegistry();
  let demo: DemoProvider | null = null;
  if (options.demo !== false) {
    demo = await startDemoProvider(typeof options.demo === 'object' ? options.demo : {});
    await registry.put(
      {
        inference_id: 'demo',
        task_type: 'completion',
        service: 'openai',
        service_settings: { model_id: 'demo-1', url: demo.url, api_key: 'demo' },
        task_settings: {},
      },
      { overwrite: true },
    );
  }
  const handler = createInferenceHandler({ ...options, registry });
  const server = createServer((req, res) => handler(req, res));
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 9200, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await demo?.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    registry,
    url: `http://${shownHost}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await demo?.close();
      await closeSharedAgent();
    },
  };
}
