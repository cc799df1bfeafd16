import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProviderClient, type ProviderClientOptions } from '../providers/transport.js';
import { bodyRequired, methodNotAllowed, noHandler, SecurityError, toInferenceError, unknownTaskType, type InferenceError } from '../errors.js';
import type { DeltaObject } from '../providers/types.js';
import { MemoryRegistry } from '../registry/memory.js';
import type { EndpointRegistry } from '../registry/types.js';
import { readJsonBody } from './body.js';
import { deleteEndpoint, getEndpoints, putEndpoint } from './endpoints.js';
import { runInference } from './inference.js';
import { parseInferenceBody } from './inference-request.js';
import { jsonTypeFor, sendJson, sendJsonError, type ResponseContext } from './respond.js';
import { matchRoute, TASK_TYPES, type Route } from './routes.js';
import { parseTimeValue } from './time.js';
import { checkAccess, securityErrorBody, securityHeaders } from './access.js';
import { type ApiKeys } from './api-keys.js';
import { checkNewEndpoint, resolveLimits, type Limits } from './limits.js';
import { StreamSlots } from './slots.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { StreamTracker } from './shutdown.js';

export interface InferenceHandlerOptions {
  /** Where endpoints live. Default: a new in-memory registry. */
  registry?: EndpointRegistry;
  /** The provider client, or options for the default one (shared undici Agent). */
  client?: ProviderClient | ProviderClientOptions;
  /** Send `X-Elastic-Product: Elasticsearch` (the official clients require it). Default true. */
  elasticProductHeader?: boolean;
  /** U+FEFF before every event, byte for byte as Elasticsearch. Default false. */
  bom?: boolean;
  /** When a streaming client disconnects: `abort` the provider request at once (default) or `drain` it to its end. */
  onDisconnect?: 'abort' | 'drain';
  /** Largest request body accepted. Default 1 MiB. */
  maxBodyBytes?: number;
  /** `timeout` when the request gives none. Default 30 s, Elasticsearch's default. */
  defaultTimeoutMs?: number;
  /** Every delta object of every answer (usage, finish_reason included), e.g. for accounting. */
  onDelta?: (delta: DeltaObject, info: { inferenceId: string; service: string; response: ServerResponse }) => void;
  /** Every error answered to a client (already free of secrets), e.g. for logging. */
  onError?: (err: InferenceError, info: { inferenceId?: string; response?: ServerResponse }) => void;
  /** API keys every request must carry (see server/api-keys.ts). Null or absent: no access control. */
  apiKeys?: ApiKeys | null;
  /** Limits (see server/limits.ts); `maxBodyBytes` above is the same as `limits.maxBodyBytes`. */
  limits?: Partial<Limits>;
  /** Retries of a provider call before anything went to the client. Default: Elasticsearch-like, 3 tries. */
  retry?: Partial<RetryPolicy>;
  /** Open streams, for graceful shutdown (the server passes its own). */
  tracker?: StreamTracker;
}

export type InferenceHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/**
 * Elasticsearch's `_inference` API as a request handler for node:http, Express (as
 * middleware: other paths go to `next`) and Fastify (raw req/res, see examples/).
 */
export function createInferenceHandler(options: InferenceHandlerOptions = {}): InferenceHandler {
  const registry = options.registry ?? new MemoryRegistry();
  const client = options.client instanceof ProviderClient ? options.client : new ProviderClient(options.client);
  const productHeader = options.elasticProductHeader ?? true;
  const bom = options.bom ?? false;
  const limits = resolveLimits({ maxBodyBytes: options.maxBodyBytes, ...options.limits });
  const maxBodyBytes = limits.maxBodyBytes;
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
  const apiKeys = options.apiKeys ?? null;
  const run = {
    registry,
    client,
    onDisconnect: options.onDisconnect ?? 'abort',
    onDelta: options.onDelta,
    onError: options.onError,
    limits,
    slots: new StreamSlots(limits.maxConcurrentStreams),
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    tracker: options.tracker ?? new StreamTracker(),
  } as const;

  return function inferenceHandler(req, res, next) {
    // Split by hand: `new URL('//host/path', base)` would read a host out of the path.
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const url = { pathname: q < 0 ? raw : raw.slice(0, q), searchParams: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
    const matched = matchRoute(url.pathname);
    if (matched === null && next) return next();
    const ctx: ResponseContext = { productHeader, jsonType: jsonTypeFor(req), bom };
    const method = (req.method ?? 'GET').toUpperCase();
    // Authentication comes first, as in Elasticsearch: nothing else is revealed or done without a key.
    try {
      checkAccess(apiKeys, req.headers.authorization, method, raw);
    } catch (err) {
      if (!(err instanceof SecurityError)) throw err;
      req.resume();
      options.onError?.(err, { response: res });
      return sendJson(res, ctx, err.status, securityErrorBody(err), securityHeaders(err));
    }
    if (matched === null || matched === 'not_found') {
      req.resume();
      return sendJsonError(res, ctx, noHandler(url.pathname, method));
    }
    if (!matched.allowed.includes(method)) {
      req.resume();
      return sendJsonError(
        res,
        ctx,
        methodNotAllowed(url.pathname, method, matched.allowed),
        { allow: matched.allowed.join(', ') },
      );
    }
    handle(req, res, ctx, method, matched.route, url.searchParams).catch((err) => {
      const e = toInferenceError(err);
      options.onError?.(e, { response: res });
      if (!res.headersSent) sendJsonError(res, ctx, e);
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, ctx: ResponseContext, method: string, route: Route, query: URLSearchParams): Promise<void> {
    if (route.taskType !== null && !TASK_TYPES.has(route.taskType)) {
      req.resume();
      throw unknownTaskType(route.taskType);
    }
    if (route.action === 'list') {
      req.resume();
      return sendJson(res, ctx, 200, await getEndpoints(registry, route.taskType, null));
    }
    if (route.action === 'endpoint' && method === 'GET') {
      req.resume();
      return sendJson(res, ctx, 200, await getEndpoints(registry, route.taskType, route.inferenceId));
    }
    if (route.action === 'endpoint' && method === 'DELETE') {
      req.resume();
      return sendJson(res, ctx, 200, await deleteEndpoint(registry, route.taskType, route.inferenceId));
    }
    if (route.action === 'endpoint' && method === 'PUT') {
      const body = await readJsonBody(req, maxBodyBytes);
      if (body === undefined) throw bodyRequired();
      const exists = (await registry.get(route.inferenceId)) !== undefined;
      checkNewEndpoint(route.inferenceId, exists, exists ? 0 : (await registry.list()).length, limits);
      // the registry checks the count again, atomically with the write (a shared one counts the fleet)
      return sendJson(res, ctx, 200, await putEndpoint(registry, route.taskType, route.inferenceId, body, { maxEndpoints: limits.maxEndpoints }));
    }
    // POST: inference, streaming or not. Parse errors are plain JSON, as in Elasticsearch.
    const param = query.get('timeout');
    const timeoutMs = param === null ? defaultTimeoutMs : parseTimeValue(param, 'timeout');
    const raw = await readJsonBody(req, maxBodyBytes);
    if (raw === undefined) throw bodyRequired();
    const body = parseInferenceBody(raw);
    const bodyTimeout = body.timeout === undefined || param !== null ? timeoutMs : parseTimeValue(body.timeout, 'timeout');
    await runInference(res, ctx, run, {
      taskType: route.taskType,
      inferenceId: route.inferenceId,
      body,
      timeoutMs: bodyTimeout,
      stream: route.action === 'stream',
    });
  }
}
