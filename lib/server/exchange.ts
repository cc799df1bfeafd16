import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { toInferenceError, type InferenceError } from '../errors.js';
import { CallAbort, type ProviderClient } from '../providers/transport.js';
import type { DeltaObject } from '../providers/types.js';
import type { EndpointRegistry } from '../registry/types.js';
import type { Limits } from './limits.js';
import { Redactor } from './redact.js';
import { sendJsonError, sendSseError, type ResponseContext } from './respond.js';
import type { RetryPolicy } from './retry.js';
import type { OpenStream, StreamTracker } from './shutdown.js';
import type { StreamSlots } from './slots.js';
import type { HostPolicy } from './url-policy.js';
import { watchUpstream } from './watchdog.js';

/** What every request of one handler shares, resolved once from the options. */
export interface Runtime {
  registry: EndpointRegistry;
  client: ProviderClient;
  /** On client disconnect: `abort` the provider request (default) or `drain` it to its end. */
  onDisconnect: 'abort' | 'drain';
  onDelta?:
    | ((delta: DeltaObject, info: { inferenceId: string; service: string; response: ServerResponse }) => void)
    | undefined;
  onError?: ((err: InferenceError, info: { inferenceId?: string; response?: ServerResponse }) => void) | undefined;
  limits: Limits;
  /** Inference requests in flight (drains included): one more is refused with 429. */
  slots: StreamSlots;
  /** Retries of the provider call, only before anything went to the client. */
  retry: RetryPolicy;
  /** Requests in flight, so that shutdown can end them. */
  tracker: StreamTracker;
  /** Which provider hosts endpoints may name. */
  hosts: HostPolicy;
  defaultTimeoutMs: number;
}

type Phase = 'waiting' | 'answering' | 'draining' | 'done';

/**
 * One inference request's whole life, and the one place that cleans it up. Created when
 * the request is accepted (its concurrency slot already taken), it holds the slot, the
 * shutdown registration, the abort signal of the provider call, the provider body and its
 * watchdog, and the drain deadline. It listens once to the response's `close` and once to
 * the provider body's `close`; when both sides are over, `finish` releases everything.
 *
 * Phases: `waiting` (reading the request, calling the provider, retry backoff) →
 * `answering` (a provider body is being read) → `draining` (the client left, the body is
 * read to its end under a deadline) → `done`.
 */
export class InferenceExchange implements OpenStream {
  /** Aborts the provider call: the client left, or shutdown ended the request (an EventEmitter: cheaper than an AbortController). */
  readonly signal = new CallAbort();
  /** Every credential of this request (stored secrets, and what the client built from them). */
  readonly redactor = new Redactor();
  inferenceId: string | undefined;
  private phase: Phase = 'waiting';
  private body: Readable | null = null;
  private failAnswer: ((err: InferenceError) => void) | null = null;
  private onDrain: (() => void) | null = null;
  private stopWatch: () => void = () => {};
  private timer: NodeJS.Timeout | undefined;
  private gone = false;
  private responseClosed = false;
  private readonly untrack: () => void;

  constructor(
    readonly res: ServerResponse,
    readonly ctx: ResponseContext,
    readonly rt: Runtime,
    /** `_stream`: errors before the answer are one `event: error`. */
    readonly stream: boolean,
    private readonly release: () => void,
  ) {
    this.untrack = rt.tracker.track(this);
    res.on('close', this.onResponseClose); // emitted once: no once() wrapper needed
  }

  /** The client left before its answer was complete. */
  get clientGone(): boolean {
    return this.gone;
  }

  /**
   * Answers with an error, when nothing was answered yet: JSON, or on `_stream` (unless
   * `asEvent` is false, as for parse errors) one `event: error` with the error's status.
   */
  reject(err: unknown, asEvent = this.stream): void {
    if (this.res.headersSent || this.res.destroyed || this.gone) return;
    const e = this.redactor.error(toInferenceError(err));
    this.rt.onError?.(e, { inferenceId: this.inferenceId, response: this.res });
    if (asEvent) sendSseError(this.res, this.ctx, e);
    else sendJsonError(this.res, this.ctx, e);
  }

  /** Reports an error of an answer already under way (already redacted by the caller). */
  reportError(err: InferenceError): void {
    this.rt.onError?.(err, { inferenceId: this.inferenceId, response: this.res });
  }

  /**
   * The provider's answer is being read: `fail` ends the client's answer with an error (a
   * timeout, shutdown); `onDrain`, when given, keeps reading after the client left (the
   * `drain` option). Call after the body is piped.
   */
  attach(body: Readable, fail: (err: InferenceError) => void, onDrain?: () => void): void {
    this.phase = 'answering';
    this.body = body;
    this.failAnswer = fail;
    this.onDrain = onDrain ?? null;
    body.on('close', this.onBodyClose);
    this.stopWatch = watchUpstream(body, this.rt.limits, (err) => {
      fail(err);
      body.destroy();
    });
    if (this.gone) body.destroy();
  }

  /** Shutdown: answer a waiting request with `err` at once; end an answer with it; stop a drain. */
  end(err: InferenceError): void {
    switch (this.phase) {
      case 'waiting':
        this.reject(err);
        this.signal.abort(err);
        // a request still being read is not waited for
        if (!this.res.headersSent) this.res.destroy();
        return;
      case 'answering':
        this.failAnswer?.(err);
        this.body?.destroy();
        return;
      case 'draining':
        this.body?.destroy();
        return;
      default:
    }
  }

  private readonly onResponseClose = (): void => {
    this.responseClosed = true;
    if (!this.res.writableFinished) {
      this.gone = true;
      if (this.phase === 'waiting') this.signal.abort();
      else if (this.phase === 'answering' && this.body && !this.body.destroyed) {
        if (this.onDrain && this.rt.onDisconnect === 'drain') {
          // the provider is read to its end (usage still reaches onDelta), within a deadline,
          // and the request keeps its concurrency slot until then
          this.phase = 'draining';
          this.onDrain();
          const body = this.body;
          if (this.rt.limits.drainTimeoutMs > 0)
            this.timer = setTimeout(() => body.destroy(), this.rt.limits.drainTimeoutMs);
        } else this.body.destroy(); // closes the provider connection now
      }
    }
    this.maybeFinish();
  };

  private readonly onBodyClose = (): void => {
    // The provider side is over. A client that has not taken the rest of the answer
    // within the idle timeout is let go: a reader that stopped cannot hold a socket forever.
    if (!this.responseClosed && !this.res.writableFinished) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.res.destroy(), this.rt.limits.idleTimeoutMs || 30_000);
    }
    this.maybeFinish();
  };

  private maybeFinish(): void {
    if (this.phase === 'done' || !this.responseClosed) return;
    if (this.body !== null && !this.body.closed) return;
    this.phase = 'done';
    clearTimeout(this.timer);
    this.stopWatch();
    this.release();
    this.untrack();
  }
}
