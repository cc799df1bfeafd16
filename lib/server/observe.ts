import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { ErrorType, type InferenceError } from '../errors.js';
import type { ProviderClient } from '../providers/transport.js';
import type { DeltaObject } from '../providers/types.js';
import type { EndpointRegistry } from '../registry/types.js';
import { matchRoute } from './routes.js';
import type { FleetMetrics } from './metrics.js';
import type { Counter, Histogram } from 'prom-client';

/** The few logger methods used (pino's signature: fields first, then the message). */
export interface Logger {
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
  debug(fields: object, msg?: string): void;
}

/** A registry that may report that its cache is behind (the Redis registry while Redis is away). */
interface MaybeStale {
  stale?: boolean;
}

/** What one request did, filled in while it runs and logged when it ends. */
interface RequestRecord {
  id: string;
  start: number;
  method: string;
  route: string;
  inferenceId: string | undefined;
  service: string | undefined;
  stream: boolean;
  firstDeltaAt: number;
  deltas: number;
  promptTokens: number;
  completionTokens: number;
  errorType: string | undefined;
  errorReason: string | undefined;
  socketBytes: number;
}

const RECORD = Symbol('inference-stream.request');

type WithRecord = ServerResponse & { [RECORD]?: RequestRecord };

/** Characters that could end or fake a log line, or drive a terminal, even inside JSON: C0 (JSON escapes those), DEL, C1, U+2028/2029. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** The text with every control character written as `\uXXXX` (plain text is returned as is, without a copy). */
export function escapeControl(text: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  UNSAFE.lastIndex = 0;
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A value as a log line may hold it: control characters escaped, and at most `max` UTF-16
 * units (then `…`), so that a line stays below the 4 KiB that one write to a pipe keeps
 * whole when several processes (`--workers`) share stderr.
 */
export function logText(text: string, max: number): string {
  const escaped = escapeControl(text);
  return escaped.length > max ? escaped.slice(0, max) + '…' : escaped;
}

const ID_BYTES = 9;
let idCounter = 0;
const idBase = randomBytes(ID_BYTES).toString('base64url').slice(0, 8);

/**
 * A short id unique to this process run (random base + counter), as given to a request
 * without `X-Opaque-Id`; log lines that no request caused get one of their own too.
 */
export function newRequestId(): string {
  return `${idBase}-${(idCounter++).toString(36)}`;
}

/** Token counts from a provider's usage object, whatever its dialect. */
export function tokensOf(usage: Record<string, unknown>): { prompt: number; completion: number } {
  const num = (...keys: string[]) => {
    for (const k of keys) {
      const v = usage[k];
      if (typeof v === 'number' && Number.isFinite(v)) return v;
    }
    return 0;
  };
  let prompt = num(
    'prompt_tokens',
    'input_tokens',
    'inputTokens',
    'promptTokenCount',
    'prompt_eval_count',
    'input_token_count',
  );
  let completion = num(
    'completion_tokens',
    'output_tokens',
    'outputTokens',
    'candidatesTokenCount',
    'eval_count',
    'generated_token_count',
  );
  const nested = (usage.tokens ?? usage.billed_units) as Record<string, unknown> | undefined;
  if (prompt === 0 && completion === 0 && nested && typeof nested === 'object') {
    const inner = tokensOf(nested);
    prompt = inner.prompt;
    completion = inner.completion;
  }
  return { prompt, completion };
}

/** Where a RequestObserver writes: the logger, the metrics (optional) and the registry (for staleness). */
export interface RequestObserverOptions {
  log: Logger;
  metrics?: FleetMetrics | null;
  registry?: EndpointRegistry;
  /** 401s and our own 429s are counted and logged once per window, not one line each. Default 10 s. */
  rejectionWindowMs?: number;
}

/**
 * Watches every request of a server: gives it a request id (the client's `X-Opaque-Id`, or
 * one made here), echoed in the response, and when it ends writes one log line (route,
 * inference id, service, status, time to first delta, duration, deltas, tokens, error type)
 * and updates the metrics. 401s and over-limit 429s are aggregated, so that key guessing or
 * a retry storm cannot flood the log. Costs one object per request and a counter per delta.
 */
export class RequestObserver {
  private readonly log: Logger;
  private readonly metrics: FleetMetrics | null;
  private readonly registry: (EndpointRegistry & MaybeStale) | undefined;
  private rejected = { unauthorized: 0, overLimit: 0, samples: [] as string[] };
  /** prom-client's children, made once per label set (bounded sets: routes × statuses, services). */
  private readonly requestChildren = new Map<string, Counter.Internal>();
  private readonly deltasBy: ((service: string) => Counter.Internal) | null;
  private readonly durationBy: ((service: string) => Histogram.Internal<'service'>) | null;
  private readonly flushTimer: NodeJS.Timeout;
  /** Streams open now. */
  activeStreams = 0;

  constructor(options: RequestObserverOptions) {
    this.log = options.log;
    this.metrics = options.metrics ?? null;
    this.registry = options.registry;
    const metrics = this.metrics;
    this.deltasBy = metrics ? this.byService(metrics.deltas) : null;
    this.durationBy = metrics ? this.byService(metrics.streamDuration) : null;
    this.flushTimer = setInterval(() => this.flushRejections(), options.rejectionWindowMs ?? 10_000);
    this.flushTimer.unref();
  }

  /** Call first for every request. */
  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const opaque = req.headers['x-opaque-id'];
    const id = typeof opaque === 'string' && opaque !== '' ? opaque : newRequestId();
    res.setHeader('x-opaque-id', id);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const { route, inferenceId } = routeOf(path, method);
    const stream = route === 'stream';
    const record: RequestRecord = {
      id,
      start: performance.now(),
      method,
      route,
      inferenceId,
      service: undefined,
      stream,
      firstDeltaAt: 0,
      deltas: 0,
      promptTokens: 0,
      completionTokens: 0,
      errorType: undefined,
      errorReason: undefined,
      socketBytes: req.socket.bytesWritten,
    };
    (res as WithRecord)[RECORD] = record;
    if (stream) this.activeStreams++;
    res.once('close', () => this.end(req, res as WithRecord, record));
  };

  /** The handler's `onDelta`: counts deltas and tokens of the request. */
  readonly onDelta = (
    delta: DeltaObject,
    info: { inferenceId: string; service: string; response?: ServerResponse },
  ): void => {
    const record = (info.response as WithRecord | undefined)?.[RECORD];
    if (record === undefined) return;
    if (record.deltas++ === 0) {
      record.firstDeltaAt = performance.now();
      record.service = info.service;
    }
    if ((delta as { usage?: unknown }).usage !== undefined) {
      const t = tokensOf((delta as { usage: Record<string, unknown> }).usage);
      record.promptTokens += t.prompt;
      record.completionTokens += t.completion;
    }
  };

  /** The handler's `onError`: remembers the error type of the request. */
  readonly onError = (err: InferenceError, info: { inferenceId?: string; response?: ServerResponse }): void => {
    const record = (info.response as WithRecord | undefined)?.[RECORD];
    if (record !== undefined) {
      record.errorType = err.type;
      record.errorReason = err.reason;
    }
    this.metrics?.errors.inc({ type: err.type });
  };

  /**
   * Wraps `client.call` to time the provider's answer (headers) by service and to count
   * retries (a second call with the same abort signal is a retry of the same request).
   */
  instrumentClient(client: ProviderClient): ProviderClient {
    const metrics = this.metrics;
    if (metrics === null) return client;
    const calls = new WeakMap<object, number>();
    const original = client.call.bind(client);
    const ttfb = this.byService(metrics.providerTtfb);
    client.call = async (endpoint, input, taskSettings, options) => {
      const signal = options?.signal;
      if (signal) {
        const n = calls.get(signal) ?? 0;
        calls.set(signal, n + 1);
        if (n > 0) metrics.retries.inc({ service: endpoint.service });
      }
      const t0 = performance.now();
      const upstream = await original(endpoint, input, taskSettings, options);
      ttfb(endpoint.service).observe((performance.now() - t0) / 1000);
      return upstream;
    };
    return client;
  }

  /** The child of a metric labelled by service, made on first use. */
  private byService<C>(metric: { labels(labels: { service: string }): C }): (service: string) => C {
    const children = new Map<string, C>();
    return (service) => {
      let child = children.get(service);
      if (child === undefined) {
        child = metric.labels({ service });
        children.set(service, child);
      }
      return child;
    };
  }

  private requestsBy(route: string, status: number): Counter.Internal {
    const key = `${route} ${status}`;
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      child = this.metrics!.requests.labels({ route, status: String(status) });
      this.requestChildren.set(key, child);
    }
    return child;
  }

  /** Writes the aggregated rejections now (at shutdown) and stops the timer. */
  close(): void {
    clearInterval(this.flushTimer);
    this.flushRejections();
  }

  private end(req: IncomingMessage, res: WithRecord, record: RequestRecord): void {
    if (record.stream) this.activeStreams--;
    const now = performance.now();
    // a client that left before any answer: 499, as nginx logs it
    const status = res.headersSent ? res.statusCode : 499;
    const durationMs = now - record.start;
    const metrics = this.metrics;
    if (metrics !== null) {
      const service = record.service ?? 'none';
      this.requestsBy(record.route, status).inc();
      if (record.deltas > 0) {
        this.deltasBy!(service).inc(record.deltas);
        this.durationBy!(service).observe(durationMs / 1000);
      }
      metrics.bytes.inc(Math.max(0, req.socket.bytesWritten - record.socketBytes));
      if (record.inferenceId !== undefined && (record.promptTokens > 0 || record.completionTokens > 0)) {
        metrics.tokens.inc({ endpoint: record.inferenceId, kind: 'prompt' }, record.promptTokens);
        metrics.tokens.inc({ endpoint: record.inferenceId, kind: 'completion' }, record.completionTokens);
      }
    }
    if (status === 401 || (status === 429 && record.errorType !== ErrorType.status)) {
      if (status === 401) this.rejected.unauthorized++;
      else this.rejected.overLimit++;
      if (this.rejected.samples.length < 5) this.rejected.samples.push(logText(record.id, 256));
      return;
    }
    const fields: Record<string, unknown> = {
      request_id: logText(record.id, 256),
      method: logText(record.method, 32),
      route: record.route,
      status,
      duration_ms: round(durationMs),
    };
    if (record.inferenceId !== undefined) fields.inference_id = logText(record.inferenceId, 256);
    if (record.service !== undefined) fields.service = record.service;
    if (record.deltas > 0) {
      fields.ttfd_ms = round(record.firstDeltaAt - record.start);
      fields.deltas = record.deltas;
    }
    if (record.promptTokens > 0 || record.completionTokens > 0) {
      fields.prompt_tokens = record.promptTokens;
      fields.completion_tokens = record.completionTokens;
    }
    if (record.errorType !== undefined) fields.error_type = logText(record.errorType, 64);
    // already free of credentials (the handler redacts before it reports); cut so that one line stays small
    if (record.errorReason !== undefined) fields.error = logText(record.errorReason, 600);
    if (this.registry?.stale) fields.registry_stale = true;
    if (status >= 500) this.log.error(fields, 'request');
    else if (status >= 400 || record.errorType !== undefined) this.log.warn(fields, 'request');
    else this.log.info(fields, 'request');
  }

  private flushRejections(): void {
    const r = this.rejected;
    if (r.unauthorized === 0 && r.overLimit === 0) return;
    this.rejected = { unauthorized: 0, overLimit: 0, samples: [] };
    this.log.warn(
      {
        request_id: newRequestId(),
        unauthorized: r.unauthorized,
        over_limit: r.overLimit,
        sample_request_ids: r.samples,
      },
      'requests rejected (401 / 429, aggregated)',
    );
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The route as a metric label (no ids: bounded cardinality) and the inference id when the path names one. */
function routeOf(path: string, method: string): { route: string; inferenceId: string | undefined } {
  if (path === '/') return { route: 'root', inferenceId: undefined };
  if (path === '/_prometheus/metrics') return { route: 'metrics', inferenceId: undefined };
  const m = matchRoute(path, method.toUpperCase());
  if (m === null || m === 'not_found') return { route: 'other', inferenceId: undefined };
  // the action names are the labels (list, get, put, update, delete, infer, stream); a wrong method is `other`
  return { route: m.action ?? 'other', inferenceId: m.inferenceId ?? undefined };
}
