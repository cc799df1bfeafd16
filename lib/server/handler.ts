import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProviderClient, type ProviderClientOptions } from '../providers/transport.js';
import {
  bodyRequired,
  methodNotAllowed,
  noHandler,
  SecurityError,
  shuttingDown,
  toInferenceError,
  tooManyStreams,
  unknownTaskType,
  type InferenceError,
} from '../errors.js';
import type { DeltaObject } from '../providers/types.js';
import { MemoryRegistry } from '../registry/memory.js';
import type { EndpointRegistry } from '../registry/types.js';
import { readJsonBody } from './body.js';
import {
  deleteEndpoint,
  getEndpoints,
  putEndpoint,
  updateEndpoint,
  validateInferenceId,
  type EndpointContext,
} from './endpoints.js';
import { InferenceExchange, type Runtime } from './exchange.js';
import { runInference } from './inference.js';
import { parseInferenceBody } from './inference-request.js';
import {
  cannedError,
  jsonTypeFor,
  sendCanned,
  sendJson,
  sendJsonError,
  type CannedResponse,
  type ResponseContext,
} from './respond.js';
import { matchRoute, ROUTES, TASK_TYPES, type Action, type RouteSpec } from './routes.js';
import { parseTimeValue } from './time.js';
import { checkAccess, securityErrorBody, securityHeaders } from './access.js';
import { ApiKeys, type ApiKeyConfig } from './api-keys.js';
import { resolveLimits, type Limits } from './limits.js';
import { StreamSlots } from './slots.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { StreamTracker } from './shutdown.js';
import { HostPolicy } from './url-policy.js';
import { parseChatRequest, type ChatRequest } from '../providers/chat/request.js';

export interface InferenceHandlerOptions {
  /** Where endpoints live. Default: a new in-memory registry. */
  registry?: EndpointRegistry;
  /** The provider client, or options for the default one (shared undici Agent). */
  client?: ProviderClient | ProviderClientOptions;
  /** Send `X-Elastic-Product: Elasticsearch` (the official clients require it). Default true. */
  elasticProductHeader?: boolean;
  /** U+FEFF before every event, byte for byte as Elasticsearch. Default false. */
  bom?: boolean;
  /**
   * When a streaming client disconnects: `abort` the provider request at once (default) or
   * `drain` it to its end. A drained request keeps its concurrency slot, and is ended after
   * `limits.drainTimeoutMs` or at shutdown.
   */
  onDisconnect?: 'abort' | 'drain';
  /** Largest request body accepted. Default 1 MiB (the same as `limits.maxBodyBytes`). */
  maxBodyBytes?: number;
  /** `timeout` when the request gives none. Default 30 s, Elasticsearch's default. */
  defaultTimeoutMs?: number;
  /** Every delta object of every answer (usage, finish_reason included), e.g. for accounting. */
  onDelta?: (delta: DeltaObject, info: { inferenceId: string; service: string; response: ServerResponse }) => void;
  /** Every error answered to a client (already free of secrets), e.g. for logging. */
  onError?: (err: InferenceError, info: { inferenceId?: string | undefined; response?: ServerResponse }) => void;
  /**
   * API keys every request must carry: the entries of a key file (`[{ id, key | key_sha256,
   * privileges }]`) or loaded keys. Null, absent or empty: no access control.
   */
  apiKeys?: readonly ApiKeyConfig[] | ApiKeys | null;
  /** Limits (see {@link Limits}); `maxBodyBytes` above is the same as `limits.maxBodyBytes`. */
  limits?: Partial<Limits>;
  /** Retries of a provider call before anything went to the client. Default: Elasticsearch-like, 3 tries. */
  retry?: Partial<RetryPolicy>;
  /**
   * Provider hosts endpoints may name (`api.openai.com`, `*.openai.azure.com`,
   * `127.0.0.1:11434`), checked at PUT and before every call. Default: every host.
   */
  allowHosts?: readonly string[] | null;
}

export type InferenceHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/** What the server passes to the handler it mounts: its own tracker, limits already resolved. */
export interface HandlerInternals {
  tracker: StreamTracker;
  limits: Limits;
}

/**
 * Elasticsearch's `_inference` API as a request handler for node:http, Express (as
 * middleware: other paths go to `next`) and Fastify (raw req/res, see examples/).
 */
export function createInferenceHandler(options: InferenceHandlerOptions = {}): InferenceHandler {
  return buildHandler(options, {
    tracker: new StreamTracker(),
    limits: resolveLimits({ maxBodyBytes: options.maxBodyBytes, ...options.limits }),
  });
}

/** One request as the actions see it. */
interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: ResponseContext;
  taskType: string | null;
  inferenceId: string;
  /** The query string after `?` (empty when none): parsed only by the actions that read a parameter. */
  rawQuery: string;
}

/** A query parameter, or null; most requests have no query string, and then nothing is parsed. */
function queryParam(r: Request, name: string): string | null {
  return r.rawQuery === '' ? null : new URLSearchParams(r.rawQuery).get(name);
}

/** @internal The handler with the server's tracker and resolved limits. */
export function buildHandler(
  options: InferenceHandlerOptions,
  internals: HandlerInternals,
  routes: readonly RouteSpec[] = ROUTES,
): InferenceHandler {
  const registry = options.registry ?? new MemoryRegistry();
  const client = options.client instanceof ProviderClient ? options.client : new ProviderClient(options.client);
  const productHeader = options.elasticProductHeader ?? true;
  const bom = options.bom ?? false;
  const { limits, tracker } = internals;
  const apiKeys = ApiKeys.from(options.apiKeys);
  const hosts = options.allowHosts ? new HostPolicy(options.allowHosts) : HostPolicy.any;
  const onError = guardOnError(options.onError);
  const rt: Runtime = {
    registry,
    client,
    onDisconnect: options.onDisconnect ?? 'abort',
    onDelta: options.onDelta,
    onError,
    limits,
    slots: new StreamSlots(limits.maxConcurrentStreams),
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    tracker,
    hosts,
    defaultTimeoutMs: options.defaultTimeoutMs ?? 30_000,
  };
  const endpoints: EndpointContext = { registry, limits, hosts };

  // The 429 of a full server, built once per response shape and sent as is.
  const busy = new Map<string, CannedResponse>();
  const tooBusy = (ctx: ResponseContext, asEvent: boolean): CannedResponse => {
    const key = `${asEvent}|${ctx.jsonType}|${ctx.unified === true}`;
    let canned = busy.get(key);
    if (!canned) {
      canned = cannedError(ctx, tooManyStreams(limits.maxConcurrentStreams), asEvent, { 'retry-after': '1' });
      busy.set(key, canned);
    }
    return canned;
  };

  /** The action table: what each route does. */
  const actions: Record<Action, (r: Request) => Promise<void>> = {
    async list(r) {
      r.req.resume();
      sendJson(r.res, r.ctx, 200, await getEndpoints(registry, r.taskType, null));
    },
    async get(r) {
      r.req.resume();
      sendJson(r.res, r.ctx, 200, await getEndpoints(registry, r.taskType, r.inferenceId));
    },
    async delete(r) {
      r.req.resume();
      const dryRun = queryParam(r, 'dry_run');
      sendJson(
        r.res,
        r.ctx,
        200,
        await deleteEndpoint(registry, r.taskType, r.inferenceId, dryRun === '' || dryRun === 'true'),
      );
    },
    async put(r) {
      // the id is checked before the body is read: an id this server cannot store costs nothing
      validateInferenceId(r.inferenceId, limits.maxIdLength);
      const body = await readJsonBody(r.req, limits.maxBodyBytes);
      if (body === undefined) throw bodyRequired();
      sendJsonText(r, await putEndpoint(endpoints, r.taskType, r.inferenceId, body));
    },
    async update(r) {
      const body = await readJsonBody(r.req, limits.maxBodyBytes);
      if (body === undefined) throw bodyRequired();
      sendJsonText(r, await updateEndpoint(endpoints, r.taskType, r.inferenceId, body));
    },
    infer: (r) => infer(r, false),
    stream: (r) => infer(r, true),
    chat: (r) => infer(r, true, true),
  };

  function sendJsonText(r: Request, text: string): void {
    if (r.res.headersSent || r.res.destroyed) return;
    r.res.writeHead(200, {
      'content-type': r.ctx.jsonType,
      ...(productHeader ? { 'x-elastic-product': 'Elasticsearch' } : {}),
      'content-length': String(Buffer.byteLength(text)),
    });
    r.res.end(text);
  }

  /** POST: inference, streaming or not. The request's lifetime from here on belongs to its exchange. */
  async function infer(r: Request, stream: boolean, chat = false): Promise<void> {
    // the chat route answers every error, from here on, in the unified shape
    if (chat) r.ctx.unified = true;
    if (tracker.isClosing) {
      r.req.resume();
      throw shuttingDown();
    }
    const release = rt.slots.acquire();
    if (release === null) {
      r.req.resume();
      return sendCanned(r.res, tooBusy(r.ctx, stream));
    }
    const ex = new InferenceExchange(r.res, r.ctx, rt, stream, release);
    ex.inferenceId = r.inferenceId;
    let timeoutMs: number;
    let parsed;
    let chatRequest: ChatRequest | undefined;
    try {
      // parse errors are plain JSON, also on _stream, as in Elasticsearch
      const param = queryParam(r, 'timeout');
      const raw = await readJsonBody(r.req, limits.maxBodyBytes);
      if (raw === undefined) throw bodyRequired();
      // chat: an OpenAI-style request, checked whole before any provider call
      if (chat) chatRequest = parseChatRequest(raw);
      parsed = chat ? { input: null, taskSettings: {}, timeout: undefined } : parseInferenceBody(raw);
      timeoutMs =
        param !== null
          ? parseTimeValue(param, 'timeout')
          : parsed.timeout !== undefined
            ? parseTimeValue(parsed.timeout, 'timeout')
            : rt.defaultTimeoutMs;
    } catch (err) {
      ex.reject(err, false);
      return;
    }
    if (ex.signal.aborted) return; // shutdown answered it while the body was read
    await runInference(ex, {
      taskType: r.taskType,
      inferenceId: r.inferenceId,
      body: parsed,
      timeoutMs,
      chat: chatRequest,
    });
  }

  return function inferenceHandler(req, res, next) {
    // Split by hand: `new URL('//host/path', base)` would read a host out of the path.
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    const method = (req.method ?? 'GET').toUpperCase();
    const matched = matchRoute(pathname, method, routes);
    if (matched === null && next) return next();
    const ctx: ResponseContext = { productHeader, jsonType: jsonTypeFor(req), bom };
    // Authentication comes first, as in Elasticsearch: nothing else is revealed or done without a key.
    try {
      checkAccess(apiKeys, req.headers.authorization, method, raw);
    } catch (err) {
      if (!(err instanceof SecurityError)) throw err;
      req.resume();
      onError?.(err, { response: res });
      return sendJson(res, ctx, err.status, securityErrorBody(err), securityHeaders(err));
    }
    if (matched === null || matched === 'not_found') {
      req.resume();
      return sendJsonError(res, ctx, noHandler(pathname, method));
    }
    if (matched.action === null) {
      req.resume();
      return sendJsonError(res, ctx, methodNotAllowed(pathname, method, matched.allowed), {
        allow: matched.allowed.join(', '),
      });
    }
    const r: Request = {
      req,
      res,
      ctx,
      taskType: matched.taskType,
      inferenceId: matched.inferenceId ?? '',
      rawQuery: q < 0 ? '' : raw.slice(q + 1),
    };
    const run =
      r.taskType !== null && !TASK_TYPES.has(r.taskType)
        ? Promise.reject(unknownTaskType(r.taskType))
        : actions[matched.action](r);
    run.catch((err) => {
      req.resume();
      const e = toInferenceError(err);
      onError?.(e, { inferenceId: r.inferenceId || undefined, response: res });
      if (!res.headersSent) sendJsonError(res, ctx, e);
      else res.destroy();
    });
  };
}

/**
 * The `onError` option wrapped so that a hook which throws never keeps the client from its
 * answer: the hook's own failure becomes a process warning (code `INFERENCE_STREAM_HOOK`).
 */
function guardOnError(hook: InferenceHandlerOptions['onError']): InferenceHandlerOptions['onError'] {
  if (hook === undefined) return undefined;
  return (err, info) => {
    try {
      hook(err, info);
    } catch (thrown) {
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      process.emitWarning(`The [onError] hook threw: ${message}`, { code: 'INFERENCE_STREAM_HOOK' });
    }
  };
}
