import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, type InferenceError } from '../errors.js';
import { errorEvent } from '../output/serialize.js';
import { chatErrorEvent, unifiedErrorBody } from '../output/chat.js';

/** What every response of one request shares: headers chosen from the request and options. */
export interface ResponseContext {
  productHeader: boolean;
  /** `application/json`, or Elasticsearch's vendor type when the client spoke it. */
  jsonType: string;
  bom: boolean;
  /** The `chat_completion` route: every error in the unified (OpenAI-style) shape, as Elasticsearch answers there. */
  unified?: boolean;
}

const VENDOR = /application\/vnd\.elasticsearch\+json\s*;\s*compatible-with\s*=\s*(\d+)/i;

/** Answer in Elasticsearch's vendor type when the client asked in it (the official clients do). */
export function jsonTypeFor(req: IncomingMessage): string {
  const asked = VENDOR.exec(String(req.headers.accept ?? '')) ?? VENDOR.exec(String(req.headers['content-type'] ?? ''));
  return asked ? `application/vnd.elasticsearch+json;compatible-with=${asked[1]}` : 'application/json';
}

function baseHeaders(ctx: ResponseContext, contentType: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (ctx.productHeader) headers['x-elastic-product'] = 'Elasticsearch';
  return headers;
}

/** A JSON answer with the request's content type and the product header (nothing if a response already started). */
export function sendJson(
  res: ServerResponse,
  ctx: ResponseContext,
  status: number,
  body: unknown,
  extra?: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...baseHeaders(ctx, ctx.jsonType),
    'content-length': String(Buffer.byteLength(text)),
    ...extra,
  });
  res.end(text);
}

/** Elasticsearch's JSON error body with the error's status. */
export function sendJsonError(
  res: ServerResponse,
  ctx: ResponseContext,
  err: InferenceError,
  extra?: Record<string, string>,
): void {
  sendJson(res, ctx, err.status, ctx.unified ? unifiedErrorBody(err) : errorBody(err), extra);
}

/**
 * The response headers of an event stream (no buffering anywhere on the way), sent now, or
 * with `flush` false left for the first write (the caller sends them within the turn).
 */
export function startEventStream(res: ServerResponse, ctx: ResponseContext, status = 200, flush = true): void {
  res.writeHead(status, ctx.productHeader ? EVENT_STREAM_HEADERS : EVENT_STREAM_HEADERS_PLAIN);
  if (flush) res.flushHeaders();
}

/** An event stream's response headers, built once (node:http only reads them). */
const EVENT_STREAM_HEADERS_PLAIN: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
});
const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream',
  'x-elastic-product': 'Elasticsearch',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
});

/** A complete event-stream body sent at once (an error before the stream, with its status). */
export function sendEventStream(
  res: ServerResponse,
  ctx: ResponseContext,
  status: number,
  body: string | Buffer,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...baseHeaders(ctx, 'text/event-stream'),
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** Elasticsearch's way of failing a `_stream` request before it started: one `event: error`, the error's status. */
export function sendSseError(res: ServerResponse, ctx: ResponseContext, err: InferenceError): void {
  sendEventStream(res, ctx, err.status, ctx.unified ? chatErrorEvent(err, ctx.bom) : errorEvent(err, ctx.bom));
}

/** A response computed once and sent as is (the 429 of a full server must cost next to nothing). */
export interface CannedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** An error answer (JSON, or one `event: error` on `_stream`) built once, to be sent many times. */
export function cannedError(
  ctx: ResponseContext,
  err: InferenceError,
  asEvent: boolean,
  extra: Record<string, string> = {},
): CannedResponse {
  const body = Buffer.from(
    ctx.unified
      ? asEvent
        ? chatErrorEvent(err, ctx.bom)
        : JSON.stringify(unifiedErrorBody(err))
      : asEvent
        ? errorEvent(err, ctx.bom)
        : JSON.stringify(errorBody(err)),
  );
  const headers = asEvent
    ? { ...baseHeaders(ctx, 'text/event-stream'), 'cache-control': 'no-cache' }
    : baseHeaders(ctx, ctx.jsonType);
  return { status: err.status, headers: { ...headers, 'content-length': String(body.length), ...extra }, body };
}

/** Sends a canned answer as is (nothing if a response already started). */
export function sendCanned(res: ServerResponse, canned: CannedResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(canned.status, canned.headers);
  res.end(canned.body);
}
