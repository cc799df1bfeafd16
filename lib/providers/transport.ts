import { EventEmitter } from 'node:events';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Agent, Dispatcher } from 'undici';
import {
  InferenceError,
  providerTimeout,
  requestCancelled,
  sendFailed,
  unknownProvider,
  unsupportedContentEncoding,
} from '../errors.js';
import type { StoredEndpoint } from '../registry/types.js';
import { getProvider, isProviderId, providerIds, type ProviderId } from './index.js';
import type { Provider, ProviderRequest, ReaderOptions, RequestContext } from './types.js';
import type { ChatRequest } from './chat/request.js';
import { undici } from './undici.js';

let shared: Agent | null = null;

/**
 * Each open stream holds one provider connection for its whole length, so the per-origin
 * connection cap is the number of streams a provider can serve at once: at 128 the
 * 1,000-stream load benchmark queued most streams for seconds. The concurrent-stream limit
 * is what bounds load; this only has to stay above it.
 */
const CONNECTIONS_PER_ORIGIN = 4096;

/** A keep-alive undici Agent for provider calls, owned (and closed) by the caller. */
export function createAgent(): Agent {
  return new (undici().Agent)({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connections: CONNECTIONS_PER_ORIGIN,
    pipelining: 1,
  });
}

/** The one keep-alive undici Agent provider calls share by default (created on first use). */
export function sharedAgent(): Dispatcher {
  shared ??= createAgent();
  return shared;
}

/** Closes the shared Agent (e.g. on shutdown); a later call creates a new one. */
export async function closeSharedAgent(): Promise<void> {
  const agent = shared;
  shared = null;
  if (agent) await agent.close();
}

/** The provider's answer once its headers are in; the body is not read yet. */
export interface UpstreamResponse {
  /** The provider that was called: its reader decodes the body. */
  provider: Provider<ProviderId>;
  status: number;
  contentType: string | undefined;
  /** undici's body stream: destroying it closes the provider connection. */
  body: Readable;
  /** The provider's `Retry-After`, for the retry policy. */
  retryAfter?: string | undefined;
  /** The provider's response headers (a rate-limit error quotes them). */
  headers?: Record<string, string | string[] | undefined>;
  /** The URL that was called (a 404 names it; the decoder removes credentials from its query). */
  url?: string;
  /** What the request told its reader (e.g. DashScope incremental output). */
  readerOptions?: ReaderOptions;
}

/**
 * A cancellation signal for provider calls that costs one EventEmitter instead of an
 * AbortController and its AbortSignal (an EventTarget, several microseconds each to create
 * and to listen to): undici takes either as `signal`. `abort` emits `abort` once.
 * The HTTP handler passes one to `ProviderClient.call`: a subclass that hands
 * `options.signal` to an API that wants an AbortSignal (`fetch`) must bridge it.
 */
export class CallAbort extends EventEmitter {
  /** True once `abort` was called. */
  aborted = false;
  /** What `abort` was given. */
  reason: unknown = undefined;

  /** Aborts: every `abort` listener is called once; later calls do nothing. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/** What cancels a provider call: an AbortSignal, or a {@link CallAbort}. */
export type CallSignal = AbortSignal | CallAbort;

/** Calls `listener` once when `signal` aborts; returns nothing (see {@link offAbort}). */
export function onAbort(signal: CallSignal, listener: () => void): void {
  if (signal instanceof CallAbort) signal.once('abort', listener);
  else signal.addEventListener('abort', listener, { once: true });
}

/** Removes a listener added with {@link onAbort}. */
export function offAbort(signal: CallSignal, listener: () => void): void {
  if (signal instanceof CallAbort) signal.off('abort', listener);
  else signal.removeEventListener('abort', listener);
}

/** Per-call options of {@link ProviderClient.call}. */
export interface ProviderCallOptions {
  /** Aborts the call at any point (a client that went away): an AbortSignal or a {@link CallAbort}. */
  signal?: CallSignal;
  /** Most milliseconds to wait for the provider's response headers. Default 30 s. */
  headersTimeoutMs?: number;
  /** Most milliseconds between two body reads once streaming. Default 300 s. */
  bodyTimeoutMs?: number;
  /**
   * Sees the built request (URL, headers with the credentials built for it: OAuth and IAM
   * tokens, signatures) before it is sent, e.g. to learn every credential to redact or to
   * refuse a host; a throw stops the call.
   */
  onRequest?: (request: ProviderRequest) => void;
}

/** Options of a {@link ProviderClient}: the dispatcher and credential overrides. */
export interface ProviderClientOptions extends Partial<Omit<RequestContext, 'dispatcher' | 'cache'>> {
  /** Default: one shared keep-alive undici Agent. */
  dispatcher?: Dispatcher;
}

/**
 * Sends the request Elasticsearch would send for a `completion` on an endpoint, through
 * undici, and hands back status, content type and the unread body. Credentials made per
 * request (Google tokens, IBM IAM tokens) are cached for the client's life.
 */
export class ProviderClient {
  readonly dispatcher: Dispatcher;
  private readonly context: RequestContext;

  constructor(options: ProviderClientOptions = {}) {
    this.dispatcher = options.dispatcher ?? sharedAgent();
    this.context = { ...options, dispatcher: this.dispatcher, cache: new Map() };
  }

  /** The provider of an endpoint's `service`; throws naming the known ids for any other. */
  static providerFor(endpoint: StoredEndpoint): Provider<ProviderId> {
    if (!isProviderId(endpoint.service)) throw unknownProvider(endpoint.service, providerIds());
    return getProvider(endpoint.service);
  }

  /** The provider request for one input (URL, headers with credentials, body). */
  async build(
    endpoint: StoredEndpoint,
    input: string,
    taskSettings: Record<string, unknown> = {},
  ): Promise<ProviderRequest> {
    const provider = ProviderClient.providerFor(endpoint);
    return provider.request(
      { endpoint, input, taskSettings: { ...endpoint.task_settings, ...taskSettings } },
      this.context,
    );
  }

  /** The provider request for a chat request (URL, headers with credentials, body in the provider's API). */
  async buildChat(endpoint: StoredEndpoint, request: ChatRequest): Promise<ProviderRequest> {
    const provider = ProviderClient.providerFor(endpoint);
    return provider.chat({ endpoint, request, taskSettings: endpoint.task_settings }, this.context);
  }

  /** Sends the request; resolves once the provider's headers are in. Throws an InferenceError when it cannot. */
  call(
    endpoint: StoredEndpoint,
    input: string,
    taskSettings: Record<string, unknown> = {},
    options: ProviderCallOptions = {},
  ): Promise<UpstreamResponse> {
    return this.send(endpoint, () => this.build(endpoint, input, taskSettings), options);
  }

  /** Sends a chat request (see {@link buildChat}); as {@link call} otherwise. */
  callChat(
    endpoint: StoredEndpoint,
    request: ChatRequest,
    options: ProviderCallOptions = {},
  ): Promise<UpstreamResponse> {
    return this.send(endpoint, () => this.buildChat(endpoint, request), options);
  }

  private async send(
    endpoint: StoredEndpoint,
    build: () => Promise<ProviderRequest>,
    options: ProviderCallOptions,
  ): Promise<UpstreamResponse> {
    const provider = ProviderClient.providerFor(endpoint);
    const timeoutMs = options.headersTimeoutMs ?? 30_000;
    // undici's cancellation: an EventEmitter, far cheaper to make and to listen to than an AbortController
    const controller = new CallAbort();
    const outer = options.signal;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else if (outer) onAbort(outer, forward);
    let timedOut = false;
    // setTimeout cannot wait longer than ~24.8 days: anything longer (or -1 → Infinity) is no limit.
    const timer =
      timeoutMs <= 2_147_483_647
        ? setTimeout(() => {
            timedOut = true;
            controller.abort(providerTimeout(timeoutMs));
          }, timeoutMs)
        : undefined;
    try {
      const req = await build();
      options.onRequest?.(req);
      const res = await undici().request(req.url, {
        dispatcher: this.dispatcher,
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal: controller,
        bodyTimeout: options.bodyTimeoutMs ?? 300_000,
        headersTimeout: 0, // bounded by the timer above, which also covers connecting
      });
      const type = res.headers['content-type'];
      const retryAfter = res.headers['retry-after'];
      return {
        provider,
        status: res.statusCode,
        contentType: Array.isArray(type) ? type[0] : type,
        body: decodeContent(endpoint, res.headers['content-encoding'], res.body),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        headers: res.headers,
        url: req.url,
        ...(req.readerOptions ? { readerOptions: req.readerOptions } : {}),
      };
    } catch (err) {
      if (timedOut) throw providerTimeout(timeoutMs);
      if (err instanceof InferenceError) throw err;
      if (controller.aborted) throw requestCancelled();
      throw sendFailed(endpoint.inference_id, err);
    } finally {
      clearTimeout(timer);
      if (outer) offAbort(outer, forward);
    }
  }
}

/**
 * The body with its `content-encoding` (gzip, deflate, br) undone; destroying the result
 * closes the provider connection. An encoding this client cannot read is a clear error
 * rather than binary quoted as text.
 */
function decodeContent(endpoint: StoredEndpoint, header: string | string[] | undefined, body: Readable): Readable {
  const encoding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return body;
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : null;
  if (decoder === null) {
    body.on('error', () => {}).destroy();
    throw unsupportedContentEncoding(endpoint.inference_id, encoding);
  }
  return pipeline(body, decoder, () => {});
}
