// A proxy (the real handler on 127.0.0.1) in front of the misbehaving provider, a client that
// can stop reading or hang up, and the counters the leak checks read.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ClientRequest } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { Agent } from 'undici';
import { createInferenceHandler, MemoryRegistry, type InferenceHandlerOptions } from '../../lib/index.js';
import type { Limits } from '../../lib/server/limits.js';
import type { RetryPolicy } from '../../lib/server/retry.js';
import { startBadProvider, type BadProvider, type Fault } from '../helpers/bad-provider.js';
import { parseEsEvents } from '../helpers/streams.js';

/** Planted in every credential field; must never come back out. */
export const SECRET = 'PLANTED-SECRET-c0ffee-5ca1ab1e';

export interface Proxy {
  url: string;
  server: Server;
  provider: BadProvider;
  registry: MemoryRegistry;
  /** Everything the handler reported through onError (what a logger would write). */
  logged: string[];
  /** Client connections the proxy holds open now. */
  readonly openConnections: number;
  /** Resolves once the proxy holds no client connection (event-driven); rejects after `ms`. */
  waitForNoConnections(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Handler options, with the reliability ones (limits, retry) this suite drives. */
export type ProxyOptions = Partial<InferenceHandlerOptions> & {
  limits?: Partial<Limits>;
  retry?: Partial<RetryPolicy>;
};

export async function startProxy(options: ProxyOptions = {}): Promise<Proxy> {
  const provider = await startBadProvider();
  const registry = new MemoryRegistry();
  // keep-alive off: every provider request has its own socket, so "closed" is observable per request;
  // a connection opened for a request that was then cancelled idles for 50 ms, not undici's 4 s
  const dispatcher = new Agent({ pipelining: 0, keepAliveTimeout: 50, keepAliveMaxTimeout: 50 });
  const logged: string[] = [];
  const handler = createInferenceHandler({
    registry,
    // (watsonx exchanges keys for IAM tokens only on cloud.ibm.com hosts; should one slip through, it stays local)
    client: { dispatcher, ibmIamUrl: provider.url('echo-auth') },
    // info.response is the live ServerResponse (circular): only its plain fields are logged
    onError: (err, info) =>
      logged.push(
        JSON.stringify({
          err: { ...err.toJSON(), message: err.message, stack: err.stack },
          info: { inferenceId: info.inferenceId },
        }),
      ),
    ...(options as Partial<InferenceHandlerOptions>),
  });
  const server = createServer((req, res) => handler(req, res));
  const connections = new Set<Socket>();
  let waiters: (() => void)[] = [];
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => {
      connections.delete(socket);
      if (connections.size > 0) return;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    provider,
    registry,
    logged,
    get openConnections() {
      return connections.size;
    },
    waitForNoConnections(ms = 5000) {
      if (connections.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${connections.size} client connection(s) still open after ${ms} ms`)),
          ms,
        );
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await dispatcher.close();
      await provider.close();
    },
  };
}

/** Registers `openai` endpoint `id` at a fault URL, with the planted secret as its key. */
export async function registerFault(proxy: Proxy, id: string, url: string): Promise<void> {
  await proxy.registry.put(
    {
      inference_id: id,
      task_type: 'completion',
      service: 'openai',
      service_settings: { api_key: SECRET, model_id: 'm', url },
      task_settings: {},
    },
    { overwrite: true },
  );
}

export interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  events: { event: string; data: string }[];
}

/** One request; resolves with the whole answer. */
export function call(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // an explicit length: Node sends a DELETE body with neither length nor chunking otherwise
    const length: Record<string, string> =
      body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(new URL(path, base), {
      method,
      agent: false,
      headers: { 'content-type': 'application/json', ...length, ...headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          events: String(res.headers['content-type']).startsWith('text/event-stream') ? parseEsEvents(text) : [],
        });
      });
    });
    req.end(body);
  });
}

export function stream(base: string, id: string, query = '', headers: Record<string, string> = {}): Promise<Answer> {
  return call(base, 'POST', `/_inference/completion/${id}/_stream${query}`, '{"input":"hi"}', headers);
}

/** Opens a stream and hands back the request once the response headers (and `bytes` body bytes) arrived; the response is then paused. */
export async function openStream(
  base: string,
  id: string,
  bytes = 0,
  headers: Record<string, string> = {},
): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  const req = httpRequest(new URL(`/_inference/completion/${id}/_stream`, base), {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', ...headers },
  });
  req.on('error', () => {});
  req.end('{"input":"hi"}');
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.on('error', () => {});
  let got = 0;
  while (got < bytes) {
    const [c] = (await once(res, 'data')) as [Buffer];
    got += c.length;
  }
  res.pause();
  return { req, res };
}

export type Expectation = { ok: string } | { before: number; type?: string } | { after: RegExp };

/** What each fault must look like to the client (status before the stream, `event: error` after). */
export const EXPECTED: Record<Exclude<Fault, 'flaky'>, Expectation> = {
  ok: { ok: 'Hello, world' },
  'reset-before': { before: 500 },
  'reset-mid': { after: /Failed to read the response|terminated|other side closed/ },
  'status-429': { before: 429 },
  'status-429-retry-after': { before: 429 },
  'status-500': { before: 400 },
  'status-503-retry-after': { before: 400 },
  'stall-headers': { before: 408, type: 'timeout_exception' },
  'stall-first-byte': { after: /first byte/ },
  'stall-mid': { after: /sent nothing/ },
  garbage: { after: /./ },
  binary: { after: /./ },
  'invalid-utf8': { ok: 'bad \ufffd(\ufffd\ufffd\ufffd\ufffd\ufffd' },
  'wrong-content-type': { after: /./ },
  // endless valid events: the total duration ends it (under heavy load a starved provider may trip the idle limit first)
  huge: { after: /maximum duration|sent nothing/ },
  'echo-auth': { before: 401 },
  'echo-auth-mid': { after: /Invalid credentials: .*\[REDACTED\]/ },
  'endless-line': { after: /longer than the limit|larger than the limit/ },
};

/** Checks one answer against its expectation; returns a description of what is wrong, or null. */
export function mismatch(answer: Answer, expected: Expectation): string | null {
  const last = answer.events.at(-1);
  const show = `${answer.status} ${answer.text.slice(0, 300)}`;
  if ('ok' in expected) {
    if (answer.status !== 200 || last?.data !== '[DONE]') return `expected a complete answer, got ${show}`;
    const text = answer.events
      .filter((e) => e.event === 'message' && e.data !== '[DONE]')
      .map((e) => (JSON.parse(e.data) as { completion: { delta: string }[] }).completion.map((c) => c.delta).join(''))
      .join('');
    return text === expected.ok ? null : `expected text ${JSON.stringify(expected.ok)}, got ${JSON.stringify(text)}`;
  }
  if ('before' in expected) {
    if (answer.status !== expected.before) return `expected status ${expected.before} before the stream, got ${show}`;
    const body = answer.events.length > 0 ? JSON.parse(answer.events.at(-1)!.data) : JSON.parse(answer.text);
    if (body?.error?.type === undefined || body.status !== expected.before)
      return `expected an Elasticsearch error body, got ${show}`;
    if (expected.type && body.error.type !== expected.type) return `expected type ${expected.type}, got ${show}`;
    return null;
  }
  if (answer.status !== 200) return `expected 200 and then event: error, got ${show}`;
  if (last?.event !== 'error') return `expected the stream to end with event: error, got ${show}`;
  const err = JSON.parse(last.data) as { error?: { type?: string; reason?: string }; status?: number };
  if (typeof err.error?.type !== 'string' || typeof err.status !== 'number')
    return `error event without type/status: ${last.data}`;
  return expected.after.test(err.error.reason ?? '')
    ? null
    : `error reason ${JSON.stringify(err.error.reason)} does not match ${expected.after}`;
}

/** Open handles right now (sockets, servers, timers Node keeps alive). */
export function activeHandles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}
