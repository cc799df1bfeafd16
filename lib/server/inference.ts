import type { Readable } from 'node:stream';
import type { UpstreamResponse } from '../providers/transport.js';
import {
  answerTooLarge,
  badRequest,
  endpointNotFound,
  hookFailed,
  incompatibleUnifiedTaskType,
  providerRedirected,
  readFailed,
  useChatCompletionUrl,
  type InferenceError,
} from '../errors.js';
import { completionStream } from '../pipeline/completion-stream.js';
import { deltaStream } from '../pipeline/delta-stream.js';
import type { DeltaObject } from '../providers/types.js';
import type { StoredEndpoint } from '../registry/types.js';
import { singleInput, validateInput, type InferenceBody } from './inference-request.js';
import { CoalescingPump } from './coalesce.js';
import { sendEventStream, sendJson, startEventStream } from './respond.js';
import { withRetry } from './retry.js';
import { requestCredentials, secretsOf } from './redact.js';
import type { InferenceExchange, Runtime } from './exchange.js';
import { chatCompletionStream } from '../pipeline/chat-completion-stream.js';
import type { ChatRequest } from '../providers/chat/request.js';
import { modelOf } from '../providers/settings.js';
import type { ProviderRequest } from '../providers/types.js';

export interface InferenceCall {
  taskType: string | null;
  inferenceId: string;
  body: InferenceBody;
  timeoutMs: number;
  /** On the chat route (`_inference/chat_completion/<id>/_stream`): the chat request; `body` is then unused. */
  chat?: ChatRequest | undefined;
}

/** Checks made once the request is parsed, in Elasticsearch's order; they fail as `event: error` on `_stream`. */
async function prepare(
  rt: Runtime,
  call: InferenceCall,
  stream: boolean,
): Promise<{ endpoint: StoredEndpoint; input: string }> {
  if (call.chat !== undefined) {
    const endpoint = await rt.registry.get(call.inferenceId);
    if (!endpoint) throw endpointNotFound(call.inferenceId);
    // TransportUnifiedCompletionInferenceAction: only chat_completion endpoints
    if (endpoint.task_type !== 'chat_completion') throw incompatibleUnifiedTaskType(endpoint.task_type);
    return { endpoint, input: '' };
  }
  const inputs = validateInput(call.body.input);
  const endpoint = await rt.registry.get(call.inferenceId);
  if (!endpoint) throw endpointNotFound(call.inferenceId);
  // a chat endpoint is only reached through the chat route, whatever the URL's task type
  if (
    endpoint.task_type === 'chat_completion' &&
    (call.taskType === null || call.taskType === 'any' || call.taskType === 'completion')
  ) {
    throw useChatCompletionUrl(endpoint.inference_id, ['completion']);
  }
  if (call.taskType !== null && call.taskType !== 'any' && call.taskType !== endpoint.task_type) {
    throw badRequest(
      `Incompatible task_type, the requested type [${call.taskType}] does not match the model type [${endpoint.task_type}]`,
    );
  }
  if (endpoint.task_type !== 'completion') {
    if (stream) {
      throw badRequest(
        `Streaming is not allowed for service [${endpoint.service}] and task [${call.taskType ?? endpoint.task_type}]. Supported tasks: [completion]`,
        405,
      );
    }
    throw badRequest(`Task type [${endpoint.task_type}] is not supported by this server; supported: [completion]`);
  }
  return { endpoint, input: singleInput(inputs, endpoint.task_type) };
}

/**
 * Runs one inference request inside its exchange: checks, the provider call (with
 * retries before anything reached the client), then the answer, streamed or collected.
 * Never throws; every failure is answered through the exchange.
 */
export async function runInference(ex: InferenceExchange, call: InferenceCall): Promise<void> {
  const rt = ex.rt;
  let upstream: UpstreamResponse;
  let endpoint: StoredEndpoint;
  try {
    const prepared = await prepare(rt, call, ex.stream);
    endpoint = prepared.endpoint;
    ex.redactor.add(() => secretsOf(prepared.endpoint));
    // `timeout` bounds all tries together: a retry gets what is left of it
    const deadline = Date.now() + call.timeoutMs;
    let tries = 0;
    upstream = await withRetry(
      async () => {
        const headersTimeoutMs = tries++ === 0 ? call.timeoutMs : Math.max(1, deadline - Date.now());
        const callOptions = {
          signal: ex.signal,
          headersTimeoutMs,
          onRequest: (req: ProviderRequest) => {
            // whatever the client built from the secrets (tokens, signatures) is redacted too
            ex.redactor.add(() => requestCredentials(req));
            rt.hosts.check(req.url);
          },
        };
        const u =
          call.chat !== undefined
            ? await rt.client.callChat(prepared.endpoint, call.chat, callOptions)
            : await rt.client.call(prepared.endpoint, prepared.input, call.body.taskSettings, callOptions);
        // a dropped answer may still report an abort later: nobody listens to it any more
        return Object.assign(u, { discard: () => u.body.on('error', () => {}).destroy() });
      },
      { policy: rt.retry, signal: ex.signal, deadline },
    );
  } catch (err) {
    // aborted: the client left (nobody to tell) or shutdown already answered
    if (!ex.signal.aborted) ex.reject(err);
    return;
  }
  if (ex.signal.aborted || ex.clientGone) {
    upstream.body.on('error', () => {}).destroy();
    return;
  }
  if (upstream.status >= 300 && upstream.status < 400) {
    upstream.body.on('error', () => {}).destroy();
    // a redirect is not followed (it could lead anywhere): it is the provider failing
    ex.reject(providerRedirected(upstream.status, endpoint.inference_id));
    return;
  }
  if (ex.stream) streamAnswer(ex, endpoint, upstream, call.chat !== undefined);
  else await collectAnswer(ex, endpoint, upstream);
}

function deltaHook(ex: InferenceExchange, endpoint: StoredEndpoint): ((d: DeltaObject) => void) | undefined {
  const onDelta = ex.rt.onDelta;
  if (!onDelta) return undefined;
  const info = { inferenceId: endpoint.inference_id, service: endpoint.service, response: ex.res };
  return (d) => {
    try {
      onDelta(d, info);
    } catch (err) {
      throw hookFailed('onDelta', err);
    }
  };
}

/**
 * Provider body → completionStream → response (one write per event-loop turn), with the
 * response's backpressure reaching the provider socket (the pump pauses the events, the
 * body's pipe pauses the body, undici stops reading). A body that fails
 * mid-way ends the stream with `event: error`. A non-2xx provider answer becomes the
 * single error event, with the mapped status, as Elasticsearch sends it.
 */
function streamAnswer(
  ex: InferenceExchange,
  endpoint: StoredEndpoint,
  upstream: UpstreamResponse,
  chat: boolean,
): void {
  const { res, ctx, rt } = ex;
  const body = upstream.body as Readable;
  const ok = upstream.status >= 200 && upstream.status < 300;
  const options = {
    contentType: upstream.contentType,
    status: upstream.status,
    headers: upstream.headers,
    url: upstream.url,
    readerOptions: upstream.readerOptions,
    inferenceId: endpoint.inference_id,
    bom: ctx.bom,
    onDelta: deltaHook(ex, endpoint),
    maxFrameBytes: rt.limits.maxFrameBytes,
    // a provider may quote the credentials it was sent (even mid-stream): they never go further
    mapError: (e: InferenceError) => ex.redactor.error(e),
  };
  // the chat route writes chat.completion.chunk events and unified errors; chunks name the endpoint's model when the provider does not
  const events = chat
    ? chatCompletionStream(upstream.provider, { ...options, model: modelOf(endpoint) ?? '' })
    : completionStream(upstream.provider, options);
  body.on('error', (err) => {
    if (!ex.clientGone) events.fail(readFailed(endpoint.inference_id, err));
  });
  body.pipe(events);
  events.once('end', () => {
    if (events.endedWithError) {
      ex.reportError(events.endedWithError);
      // nothing more will be decoded: stop reading what the provider still sends
      if (!body.readableEnded) body.destroy();
    }
  });

  if (!ok) {
    // Small by construction: the decoder keeps at most 64 KiB of an error body and writes one event.
    const parts: Buffer[] = [];
    events.on('data', (b: Buffer) => parts.push(b));
    events.once('end', () => sendEventStream(res, ctx, events.endedWithError?.status ?? 500, Buffer.concat(parts)));
    ex.attach(body, (err) => events.fail(err));
    return;
  }

  // the headers go with the first event when it is already there, else at the end of this turn
  startEventStream(res, ctx, 200, false);
  // one write per event-loop turn (the first at once), with pipe's backpressure
  const pump = new CoalescingPump(events, res, { headersPending: true });
  ex.attach(
    body,
    (err) => events.fail(err),
    // the client left: the output is discarded, so nothing accumulates beyond the streams' high-water marks
    pump.detach,
  );
}

/** The non-streaming route: the same decoding, collected into `{"completion":[{"result":"…"}]}`. */
async function collectAnswer(
  ex: InferenceExchange,
  endpoint: StoredEndpoint,
  upstream: UpstreamResponse,
): Promise<void> {
  const { res, ctx, rt } = ex;
  const body = upstream.body as Readable;
  const deltas = deltaStream(upstream.provider, {
    contentType: upstream.contentType,
    status: upstream.status,
    headers: upstream.headers,
    url: upstream.url,
    readerOptions: upstream.readerOptions,
    inferenceId: endpoint.inference_id,
    maxFrameBytes: rt.limits.maxFrameBytes,
  });
  let failure: InferenceError | null = null;
  // a provider timeout, shutdown or an endless answer ends the collection with that error
  const fail = (err: InferenceError) => {
    failure ??= err;
    deltas.destroy(err);
    body.destroy();
  };
  body.on('error', (err) => fail(readFailed(endpoint.inference_id, err)));
  // a body closed before its end (client gone, timeout) ends the collection too
  body.once('close', () => {
    if (!body.readableEnded) deltas.destroy(failure ?? undefined);
  });
  body.pipe(deltas);
  ex.attach(body, fail);
  const onDelta = deltaHook(ex, endpoint);
  let result = '';
  try {
    for await (const d of deltas as AsyncIterable<DeltaObject>) {
      onDelta?.(d);
      if ('delta' in d) result += d.delta;
      // an endless answer must not grow memory: the collected text is bounded
      if (result.length > rt.limits.maxAnswerChars)
        fail(answerTooLarge(endpoint.inference_id, rt.limits.maxAnswerChars));
    }
  } catch (err) {
    body.destroy(); // a decoding failure leaves the provider body unread: close its connection
    ex.reject(failure ?? err, false);
    return;
  }
  sendJson(res, ctx, 200, { completion: [{ result }] });
}
