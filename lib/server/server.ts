import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgent, ProviderClient } from '../providers/transport.js';
import { MemoryRegistry } from '../registry/memory.js';
import type { EndpointRegistry, StoredEndpoint } from '../registry/types.js';
import { ApiKeys } from './api-keys.js';
import { startDemoProvider, type DemoProvider } from './demo-provider.js';
import { buildHandler, type InferenceHandlerOptions } from './handler.js';
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
  /** On close: how long requests in flight may go on before they are ended (503 or an error event). Default 10 s. */
  shutdownGraceMs?: number;
  /** Told what an operator should know (e.g. a user endpoint named `demo` kept instead of the built-in one). */
  onWarning?: (message: string) => void;
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
  /** Stops accepting, lets requests finish within the grace period, ends the rest; resolves within grace + 1 s. */
  close(): Promise<void>;
}

/** The key of the built-in demo endpoint: no real provider takes it. */
const DEMO_KEY = 'demo-provider-needs-no-key';

/** The built-in demo endpoint (also as an older version stored it), as opposed to a user's endpoint named `demo`. */
function isBuiltInDemo(e: StoredEndpoint): boolean {
  const s = e.service_settings;
  return (
    e.service === 'openai' &&
    s.model_id === 'demo-1' &&
    (s.api_key === DEMO_KEY || s.api_key === 'demo') &&
    typeof s.url === 'string' &&
    /^http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions$/.test(s.url)
  );
}

/**
 * The `_inference` API on its own HTTP server, with the `demo` endpoint unless turned off.
 * The server owns what it creates (its provider connections, the demo provider) and
 * closes only those.
 */
export async function startInferenceServer(options: InferenceServerOptions = {}): Promise<InferenceServer> {
  const host = options.host ?? '127.0.0.1';
  const apiKeys = ApiKeys.from(options.apiKeys);
  // the safe default: without API keys, only this machine may connect
  assertSafeBinding(host, apiKeys !== null);
  const limits = resolveLimits({ maxBodyBytes: options.maxBodyBytes, ...options.limits });
  const registry = options.registry ?? new MemoryRegistry();
  const owned: (() => Promise<void>)[] = [];
  const closeOwned = async () => {
    for (const close of owned.splice(0).reverse()) await close().catch(() => undefined);
  };
  let client = options.client;
  if (!(client instanceof ProviderClient) && client?.dispatcher === undefined) {
    // its own connections, so that closing this server leaves every other one working
    const agent = createAgent();
    owned.push(() => agent.destroy());
    client = new ProviderClient({ ...client, dispatcher: agent });
  }
  try {
    if (options.demo !== false) {
      const demo: DemoProvider = await startDemoProvider(typeof options.demo === 'object' ? options.demo : {});
      owned.push(() => demo.close());
      // the same simulated model on both routes (a task type per endpoint, as in Elasticsearch)
      for (const [id, taskType] of [
        ['demo', 'completion'],
        ['demo-chat', 'chat_completion'],
      ] as const) {
        const existing = await registry.get(id);
        if (existing && !isBuiltInDemo(existing)) {
          options.onWarning?.(
            `an endpoint named [${id}] already exists and is kept; the built-in one is not added (start with --no-demo to silence this)`,
          );
          continue;
        }
        const endpoint = {
          inference_id: id,
          task_type: taskType,
          service: 'openai',
          service_settings: { model_id: 'demo-1', url: demo.url, api_key: DEMO_KEY },
          task_settings: {},
        };
        // a fleet member's own: its demo provider lives in this process
        await registry.put(endpoint, { overwrite: true, local: true });
      }
    }
    const tracker = new StreamTracker();
    const handler = buildHandler({ ...options, registry, client, apiKeys }, { tracker, limits });
    const nodeRoutes = createNodeRoutes({
      apiKeys,
      productHeader: options.elasticProductHeader ?? true,
      info: options.nodeInfo,
      metrics: options.metrics,
    });
    const onRequest = options.onRequest;
    const server = createServer(
      {
        maxHeaderSize: limits.maxHeaderBytes,
        headersTimeout: limits.headersTimeoutMs,
        // the head must arrive in time (408); the whole request within Node's default
        requestTimeout: Math.max(300_000, limits.headersTimeoutMs),
        connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4))),
      },
      (req, res) => {
        onRequest?.(req, res);
        if (!nodeRoutes(req, res)) handler(req, res);
      },
    );
    server.maxConnections = limits.maxConnections;
    // a request Node cannot parse (oversized head, broken HTTP, a head too slow) still gets Elasticsearch's JSON
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // as Node's own handler: answer only when no response has started on this connection
      const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent)
        socket.end(clientErrorResponse(err.code, limits.maxHeaderBytes));
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 9200, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    let closing: Promise<void> | null = null;
    return {
      server,
      registry,
      url: `http://${shownHost}:${port}`,
      close() {
        // a second call (a second signal) waits for the same graceful close
        closing ??= (async () => {
          await closeGracefully(server, tracker, options.shutdownGraceMs ?? 10_000);
          await closeOwned();
        })();
        return closing;
      },
    };
  } catch (err) {
    await closeOwned();
    throw err;
  }
}
