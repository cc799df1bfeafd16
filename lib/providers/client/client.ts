import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { request, type Dispatcher } from 'undici';
import { ErrorType, InferenceError } from '../../errors.js';
import type { StoredEndpoint } from '../../registry/types.js';
import { sharedAgent } from './agent.js';
import { createAuthContext, safeMessage, type AuthOptions } from './auth.js';
import { getService } from './services.js';
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
  /**
   * Sees the built request (URL, headers with the credentials built for it) before it is
   * sent, e.g. to learn every credential to redact or to refuse a host; a throw stops the call.
   */
  onRequest?: (request: ProviderRequest) => void;
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
    if (!service) throw new InferenceError(ErrorType.status, `Unknown service [${endpoint.service}] for model [${endpoint.inference_id}]`, 400);
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
      options.onRequest?.(req);
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
      return {
        status: res.statusCode,
        contentType: Array.isArray(type) ? type[0] : type,
        body: decodeContent(endpoint, res.headers['content-encoding'], res.body),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (err) {
      if (timedOut) throw timeoutError(timeoutMs);
      if (err instanceof InferenceError) throw err;
      if (controller.signal.aborted) throw new InferenceError(ErrorType.status, 'Request to the inference provider was cancelled: the client went away', 499);
      throw sendError(endpoint, err);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * The body with its `content-encoding` (gzip, deflate, br) undone; destroying the result
 * closes the provider connection. An encoding this client cannot read is a clear error
 * rather than binary quoted as text.
 */
function decodeContent(endpoint: StoredEndpoint, header: string | string[] | undefined, body: Readable): Readable {
  const encoding = (Array.isArray(header) ? header.join(',') : header ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return body;
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : null;
  if (decoder === null) {
    body.on('error', () => {}).destroy();
    throw new InferenceError(
      ErrorType.status,
      `Failed to read the response from inference entity id [${endpoint.inference_id}]: content-encoding [${encoding.slice(0, 40)}] is not supported (gzip, deflate and br are)`,
      502,
    );
  }
  return pipeline(body, decoder, () => {});
}

function timeoutError(ms: number): InferenceError {
  return new InferenceError(ErrorType.timeout, `Request timed out waiting for the inference provider's response after [${formatMs(ms)}]`, 408);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function sendError(endpoint: StoredEndpoint, err: unknown): InferenceError {
  return new InferenceError(
    ErrorType.status,
    `Failed to send request from inference entity id [${endpoint.inference_id}]: ${safeMessage(err)}`,
    500,
    { cause: err },
  );
}
