import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ProviderClient, UpstreamResponse } from '../providers/transport.js';
import { answerTooLarge, badRequest, endpointNotFound, hookFailed, readFailed, shuttingDown, toInferenceError, type InferenceError } from '../errors.js';
import { completionStream } from '../pipeline/completion-stream.js';
import { deltaStream } from '../pipeline/delta-stream.js';
import type { DeltaObject } from '../providers/types.js';
import type { EndpointRegistry, StoredEndpoint } from '../registry/types.js';
import { singleInput, validateInput, type InferenceBody } from './inference-request.js';
import { sendEventStream, sendJson, sendJsonError, sendSseError, startEventStream, type ResponseContext } from './respond.js';
import type { Limits } from './limits.js';
import type { StreamSlots } from './slots.js';
import { watchUpstream } from './watchdog.js';
import { callUpstream, guardStream } from './upstream.js';
import type { StreamTracker } from './shutdown.js';
import { type RetryPolicy } from './retry.js';
import { redactError, secretsOf } from './redact.js';

export interface InferenceRunOptions {
  registry: EndpointRegistry;
  client: ProviderClient;
  /** On client disconnect: `abort` the provider request (default) or `drain` it to its end. */
  onDisconnect: 'abort' | 'drain';
  onDelta?: ((delta: DeltaObject, info: { inferenceId: string; service: string; response: ServerResponse }) => void) | undefined;
  onError?: ((err: InferenceError, info: { inferenceId: string; response: ServerResponse }) => void) | undefined;
  limits: Limits;
  /** Streams open at once: a full server answers 429 before calling the provider. */
  slots: StreamSlots;
  /** Retries of the provider call, only before anything went to the client. */
  retry: RetryPolicy;
  /** Open streams, so that shutdown can end them. */
  tracker: StreamTracker;
}

export interface InferenceCall {
  taskType: string | null;
  inferenceId: string;
  body: InferenceBody;
  timeoutMs: number;
  stream: boolean;
}

/** Checks made once the request is parsed, in Elasticsearch's order; they fail as `event: error` on `_stream`. */
async function prepare(options: InferenceRunOptions, call: InferenceCall): Promise<{ endpoint: StoredEndpoint; input: string }> {
  const inputs = validateInput(call.body.input);
  const endpoint = await options.registry.get(call.inferenceId);
  if (!endpoint) throw endpointNotFound(call.inferenceId);
  if (call.taskType !== null && call.taskType !== 'any' && call.taskType !== endpoint.task_type) {
    throw badRequest(`Incompatible task_type, the requested type [${call.taskType}] does not match the model type [${endpoint.task_type}]`);
  }
  if (endpoint.task_type !== 'completion') {
    if (call.stream) {
      throw badRequest(`Streaming is not allowed for service [${endpoint.service}] and task [${call.taskType ?? endpoint.task_type}]. Supported tasks: [completion]`, 405);
    }
    throw badRequest(`Task type [${endpoint.task_type}] is not supported by this server; supported: [completion]`);
  }
  return { endpoint, input: singleInput(inputs, endpoint.task_type) };
}

/** Runs one inference request to its end; never throws. */
export async function runInference(res: ServerResponse, ctx: ResponseContext, options: InferenceRunOptions, call: InferenceCall): Promise<void> {
  const aborter = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) aborter.abort();
  };
  res.once('close', onClose);
  let upstream: UpstreamResponse;
  let endpoint: StoredEndpoint | undefined;
  let secrets: string[] = [];
  try {
    const prepared = await prepare(options, call);
    endpoint = prepared.endpoint;
    secrets = secretsOf(endpoint);
    if (options.tracker.isClosing) throw shuttingDown();
    // `timeout` bounds all tries together: a retry gets what is left of it
    const deadline = Date.now() + call.timeoutMs;
    let tries = 0;
    const started = await callUpstream(
      () => {
        const headersTimeoutMs = tries++ === 0 ? call.timeoutMs : Math.max(1, deadline - Date.now());
        return options.client.call(prepared.endpoint, prepared.input, call.body.taskSettings, { signal: aborter.signal, headersTimeoutMs });
      },
      { slots: options.slots, retry: options.retry, signal: aborter.signal, deadline },
    );
    upstream = started.upstream;
    // the stream slot is held until the answer is over
    if (aborter.signal.aborted) started.release();
    else res.once('close', started.release);
  } catch (err) {
    res.off('close', onClose);
    if (aborter.signal.aborted) return; // nobody left to tell
    // a provider may quote the credentials it was sent: they never go further
    const e = redactError(toInferenceError(err), secrets);
    options.onError?.(e, { inferenceId: call.inferenceId, response: res });
    if (call.stream) sendSseError(res, ctx, e);
    else sendJsonError(res, ctx, e);
    return;
  }
  res.off('close', onClose);
  if (aborter.signal.aborted || res.destroyed) {
    upstream.body.destroy();
    return;
  }
  const onDelta = options.onDelta;
  const info = { inferenceId: endpoint.inference_id, service: endpoint.service, response: res };
  const deltaHook = onDelta
    ? (d: DeltaObject) => {
        try {
          onDelta(d, info);
        } catch (err) {
          throw hookFailed('onDelta', err);
        }
      }
    : undefined;
  if (call.stream) streamAnswer(res, ctx, options, endpoint, upstream, deltaHook, secrets);
  else await collectAnswer(res, ctx, options, endpoint, upstream, deltaHook, secrets);
}

/**
 * Provider body → completionStream → response, with the response's backpressure reaching
 * the provider socket (pipe pauses the body, undici stops reading). A body that fails
 * mid-way ends the stream with `event: error`. A non-2xx provider answer becomes the
 * single error event, with the mapped status, as Elasticsearch sends it.
 */
function streamAnswer(
  res: ServerResponse,
  ctx: ResponseContext,
  options: InferenceRunOptions,
  endpoint: StoredEndpoint,
  upstream: UpstreamResponse,
  onDelta: ((d: DeltaObject) => void) | undefined,
  secrets: readonly string[],
): void {
  const body = upstream.body as Readable;
  const ok = upstream.status >= 200 && upstream.status < 300;
  const events = completionStream(upstream.provider, {
    contentType: upstream.contentType,
    status: upstream.status,
    inferenceId: endpoint.inference_id,
    bom: ctx.bom,
    onDelta,
    maxFrameBytes: options.limits.maxFrameBytes,
    // a provider may quote the credentials it was sent (even mid-stream): they never go further
    mapError: secrets.length > 0 ? (e) => redactError(e, secrets) : undefined,
  });
  const untrack = options.tracker.track({ end: (err) => events.fail(err) });
  res.once('close', untrack);
  let clientGone = false;
  body.on('error', (err) => {
    if (!clientGone) events.fail(readFailed(endpoint.inference_id, err));
  });
  body.pipe(events);
  // provider timeouts end the stream; a client that stopped reading is let go after the idle timeout
  guardStream(body, res, options.limits, (err) => events.fail(err), options.limits.idleTimeoutMs || 30_000);

  if (!ok) {
    // Small by construction: the decoder keeps at most 64 KiB of an error body and writes one event.
    const parts: Buffer[] = [];
    events.on('data', (b: Buffer) => parts.push(b));
    events.on('end', () => {
      if (clientGone) return;
      const failure = events.endedWithError;
      sendEventStream(res, ctx, failure ? failure.status : 500, Buffer.concat(parts));
      if (failure) options.onError?.(failure, { inferenceId: endpoint.inference_id, response: res });
    });
    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      body.destroy();
    });
    return;
  }

  startEventStream(res, ctx);
  events.pipe(res);
  events.once('end', () => {
    if (!events.endedWithError) return;
    options.onError?.(events.endedWithError, { inferenceId: endpoint.inference_id, response: res });
    // Nothing more will be decoded: stop reading what the provider still sends.
    if (!body.readableEnded) {
      clientGone = true;
      body.destroy();
    }
  });
  res.once('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    events.unpipe(res);
    if (options.onDisconnect === 'drain' && !body.destroyed) {
      // Read the provider to its end (usage still reaches onDelta); the output is discarded,
      // so nothing accumulates beyond the streams' own high-water marks.
      events.resume();
      return;
    }
    body.destroy(); // closes the provider connection now
    events.destroy();
  });
}

/** The non-streaming route: the same decoding, collected into `{"completion":[{"result":"…"}]}`. */
async function collectAnswer(
  res: ServerResponse,
  ctx: ResponseContext,
  options: InferenceRunOptions,
  endpoint: StoredEndpoint,
  upstream: UpstreamResponse,
  onDelta: ((d: DeltaObject) => void) | undefined,
  secrets: readonly string[],
): Promise<void> {
  const body = upstream.body as Readable;
  const onClose = () => {
    if (!res.writableFinished) body.destroy();
  };
  res.once('close', onClose);
  const deltas = deltaStream(upstream.provider, {
    contentType: upstream.contentType,
    status: upstream.status,
    inferenceId: endpoint.inference_id,
    maxFrameBytes: options.limits.maxFrameBytes,
  });
  let result = '';
  let readFailure: InferenceError | null = null;
  body.on('error', (err) => {
    readFailure ??= readFailed(endpoint.inference_id, err);
    deltas.destroy(readFailure);
  });
  body.pipe(deltas);
  // a provider timeout or shutdown ends the answer with that error
  const fail = (err: InferenceError) => {
    readFailure ??= err;
    deltas.destroy(err);
    body.destroy();
  };
  const stopWatch = watchUpstream(body, options.limits, fail);
  const untrack = options.tracker.track({ end: fail });
  res.once('close', untrack);
  res.once('close', stopWatch);
  try {
    for await (const d of deltas as AsyncIterable<DeltaObject>) {
      onDelta?.(d);
      if ('delta' in d) result += d.delta;
      // an endless answer must not grow memory: the collected text is bounded
      if (result.length > options.limits.maxAnswerChars) fail(answerTooLarge(endpoint.inference_id, options.limits.maxAnswerChars));
    }
  } catch (err) {
    res.off('close', onClose);
    body.destroy(); // a decoding failure leaves the provider body unread: close its connection
    if (res.destroyed) return;
    const e = redactError(readFailure ?? toInferenceError(err), secrets);
    options.onError?.(e, { inferenceId: endpoint.inference_id, response: res });
    sendJsonError(res, ctx, e);
    return;
  }
  res.off('close', onClose);
  sendJson(res, ctx, 200, { completion: [{ result }] });
}
