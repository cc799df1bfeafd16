import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { InferenceError, providerTimeout as timeoutError, requestCancelled, sendFailed, unknownProvider } from '../../errors.js';
import type { StoredEndpoint } from '../../registry/types.js';
import { sharedAgent } from './agent.js';
import { createAuthContext, type AuthOptions } from './auth.js';
import { getService, serviceIds } from './services.js';
import type { AuthContext, ProviderRequest } from './types.js';

/** The provider's answer once its headers are in; the body is not read yet. */
export interface UpstreamResponse {
  status: number;
  contentType: string | undefined;
  /** undici's body stream: destroying it closes the provider connection. */
  body: Readable;
  /** The provider's `Retry-After`, for the retry policy. */
  retryAfter?: string | undefined;
}

export interface ProviderCallOptions {
  /** Aborts the call at any point (a client that went away). */
  signal?: AbortSignal;
  /** Most milliseconds to wait for the provider's response headers. Default 30 s. */
  headersTimeoutMs?: number;
  /** Most milliseconds between two body reads once streaming. Default 300 s. */
  bodyTimeoutMs?: number;
}

export interface ProviderClientOptions extends Partial<Omit<AuthOptions, 'dispatcher'>> {
  /** Default: one shared keep-alive undici Agent. */
  dispatcher?: Dispatcher;
}

/**
 * Sends the request Elasticsearch would send for a `completion` on an endpoint, through
 * undici, and hands back status, content type and the unread body.
 */
export class ProviderClient {
  readonly dispatcher: Dispatcher;
  private readonly auth: AuthContext;

  constructor(options: ProviderClientOptions = {}) {
    this.dispatcher = options.dispatcher ?? sharedAgent();
    this.auth = createAuthContext({ ...options, dispatcher: this.dispatcher });
  }

  /** The provider request for one input (URL, headers with credentials, body). */
  async build(endpoint: StoredEndpoint, input: string, taskSettings: Record<string, unknown> = {}): Promise<ProviderRequest> {
    const service = getService(endpoint.service);
    if (!service) throw unknownProvider(endpoint.service, serviceIds());
    return service.build({ endpoint, input, taskSettings: { ...endpoint.task_settings, ...taskSettings } }, this.auth);
  }

  async call(endpoint: StoredEndpoint, input: string, taskSettings: Record<string, unknown> = {}, options: ProviderCallOptions = {}): Promise<UpstreamResponse> {
    const timeoutMs = options.headersTimeoutMs ?? 30_000;
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    // setTimeout cannot wait longer than ~24.8 days: anything longer (or -1 → Infinity) is no limit.
    const timer = timeoutMs <= 2_147_483_647
      ? setTimeout(() => {
          timedOut = true;
          controller.abort(timeoutError(timeoutMs));
        }, timeoutMs)
      : undefined;
    try {
      const req = await this.build(endpoint, input, taskSettings);
      const res = await request(req.url, {
        dispatcher: this.dispatcher,
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal: controller.signal,
        bodyTimeout: options.bodyTimeoutMs ?? 300_000,
        headersTimeout: 0, // bounded by the timer above, which also covers connecting
      });
      const type = res.headers['content-type'];
      const retryAfter = res.headers['retry-after'];
      return { status: res.statusCode, contentType: Array.isArray(type) ? type[0] : type, body: res.body, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    } catch (err) {
      if (timedOut) throw timeoutError(timeoutMs);
      if (err instanceof InferenceError) throw err;
      if (controller.signal.aborted) throw requestCancelled();
      throw sendFailed(endpoint.inference_id, err);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
