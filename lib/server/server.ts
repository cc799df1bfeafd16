import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeSharedAgent } from '../providers/transport.js';
import { MemoryRegistry } from '../registry/memory.js';
import type { EndpointRegistry } from '../registry/types.js';
import { startDemoProvider, type DemoProvider } from './demo-provider.js';
import { createInferenceHandler, type InferenceHandlerOptions } from './handler.js';
import { clientErrorResponse, resolveLimits } from './limits.js';
import { closeGracefully, StreamTracker } from './shutdown.js';
import { assertSafeBinding } from './bind.js';
import { createNodeRoutes, type NodeInfo } from './node-routes.js';

export interface InferenceServerOptions extends InferenceHandlerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9200; 0 picks a free port. */
  port?: number;
  /** Add the `demo` (completion) and `demo-chat` (chat_completion) endpoints backed by the embedded simulated provider. Default true. */
  demo?: boolean | { tokensPerSecond?: number };
  /** On close: how long open streams may go on before they are ended with an error event. Default 10 s. */
  shutdownGraceMs?: number;
  /** Called first for every request, e.g. to give it a request id and log it when it ends. */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
  /** What `GET /` reports (Elasticsearch's node root). */
  nodeInfo?: NodeInfo;
  /** `GET /_prometheus/metrics` answers with this text; absent: no metrics route. */
  metrics?: () => Promise<{ text: string; contentType: string }>;
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
  const host = options.host ?? '127.0.0.1';
  // the safe default: without API keys, only this machine may connect
  assertSafeBinding(host, (options.apiKeys?.size ?? 0) > 0);
  const limits = resolveLimits({ maxBodyBytes: options.maxBodyBytes, ...options.limits });
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
      // a fleet member's own: its demo provider lives in this process
      { overwrite: true, local: true },
    );
    // the same simulated model on the chat route (a task type per endpoint, as in Elasticsearch)
    await registry.put(
      {
        inference_id: 'demo-chat',
        task_type: 'chat_completion',
        service: 'openai',
        service_settings: { model_id: 'demo-1', url: demo.url, api_key: 'demo' },
        task_settings: {},
      },
      { overwrite: true },
    );
  }
  const tracker = new StreamTracker();
  const handler = createInferenceHandler({ ...options, registry, tracker });
  const nodeRoutes = createNodeRoutes({ apiKeys: options.apiKeys ?? null, productHeader: options.elasticProductHeader ?? true, info: options.nodeInfo, metrics: options.metrics });
  const onRequest = options.onRequest;
  const server = createServer({ maxHeaderSize: limits.maxHeaderBytes }, (req, res) => {
    onRequest?.(req, res);
    if (!nodeRoutes(req, res)) handler(req, res);
  });
  // a request Node cannot parse (oversized head, broken HTTP) still gets Elasticsearch's JSON
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // as Node's own handler: answer only when no response has started on this connection
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) socket.end(clientErrorResponse(err.code, limits.maxHeaderBytes));
    else socket.destroy();
  });
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
      // stop accepting, let open streams finish within the grace period, end the rest with an error event
      await closeGracefully(server, tracker, options.shutdownGraceMs ?? 10_000);
      await demo?.close();
      await closeSharedAgent();
    },
  };
}
