// A local provider that misbehaves on request: the path names the fault. It speaks OpenAI's
// streaming format when it speaks at all, and counts requests and open sockets so that tests
// can check that every provider connection gets closed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { once } from 'node:events';

export const FAULTS = [
  'ok',
  'reset-before',
  'reset-mid',
  'status-429',
  'status-429-retry-after',
  'status-500',
  'status-503-retry-after',
  'stall-headers',
  'stall-first-byte',
  'stall-mid',
  'garbage',
  'binary',
  'invalid-utf8',
  'wrong-content-type',
  'huge',
  'endless-line',
  'flaky',
  'echo-auth',
  'echo-auth-mid',
] as const;
export type Fault = (typeof FAULTS)[number];

/** The answer of the `ok` fault, and of `flaky` once it recovers. */
export const OK_TEXT = 'Hello, world';

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
export const OK_BODY =
  chunk({ role: 'assistant', content: '' }) +
  chunk({ content: 'Hello' }) +
  chunk({ content: ', world' }) +
  chunk({}, 'stop') +
  'data: [DONE]\n\n';
const FIRST_PART = chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Hel' });

export interface ReceivedRequest {
  fault: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface BadProvider {
  /** `service_settings.url` for a fault; `flaky` fails `failures` times (503) before answering. */
  url(fault: Fault, options?: { failures?: number; key?: string }): string;
  /** A URL on which nothing listens (connection refused). */
  refusedUrl: string;
  /** Every request that reached the provider. */
  readonly received: ReceivedRequest[];
  /** Bytes written by `huge` / `endless-line` responses so far. */
  readonly bytesSent: number;
  readonly openSockets: number;
  /** Resolves once no provider socket is open (event-driven); rejects after `ms`. */
  waitForNoSockets(ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startBadProvider(): Promise<BadProvider> {
  const sockets = new Set<Socket>();
  const lastFault = new WeakMap<Socket, string>();
  const received: ReceivedRequest[] = [];
  const attempts = new Map<string, number>();
  let bytesSent = 0;
  let idleWaiters: (() => void)[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const fault = url.pathname.slice(1);
      received.push({ fault, url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      lastFault.set(req.socket, fault);
      serve(fault as Fault, url.searchParams, req, res);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      if (sockets.size === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  });

  function serve(fault: Fault, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const sse = { 'content-type': 'text/event-stream' };
    switch (fault) {
      case 'ok':
        res.writeHead(200, sse).end(OK_BODY);
        return;
      case 'flaky': {
        const key = query.get('key') ?? '';
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        if (n <= Number(query.get('failures') ?? 1)) {
          res
            .writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' })
            .end('{"error":{"message":"busy, try again","type":"server_error"}}');
        } else res.writeHead(200, sse).end(OK_BODY);
        return;
      }
      case 'reset-before':
        req.socket.resetAndDestroy();
        return;
      case 'reset-mid':
        res.writeHead(200, sse);
        res.write(FIRST_PART, () => setImmediate(() => req.socket.resetAndDestroy()));
        return;
      case 'status-429':
        res
          .writeHead(429, { 'content-type': 'application/json' })
          .end(
            '{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}',
          );
        return;
      case 'status-429-retry-after':
        res
          .writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' })
          .end(
            '{"error":{"message":"Rate limit reached, retry after 1s","type":"requests","code":"rate_limit_exceeded"}}',
          );
        return;
      case 'status-500':
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}');
        return;
      case 'status-503-retry-after':
        res
          .writeHead(503, { 'content-type': 'text/html', 'retry-after': '2' })
          .end('<html><body>Service Unavailable</body></html>');
        return;
      case 'echo-auth':
        // a provider that quotes the credentials it got in its error message
        res.writeHead(401, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: {
              message: `Incorrect API key provided: ${JSON.stringify(req.headers)}`,
              type: 'invalid_request_error',
            },
          }),
        );
        return;
      case 'echo-auth-mid':
        // the same, as an error event in the middle of a 200 stream
        res
          .writeHead(200, sse)
          .end(
            FIRST_PART +
              `data: ${JSON.stringify({ error: { message: `Invalid credentials: ${JSON.stringify(req.headers)}`, type: 'invalid_request_error' } })}\n\n`,
          );
        return;
      case 'stall-headers':
        return; // never answers
      case 'stall-first-byte':
        res.writeHead(200, sse);
        res.flushHeaders();
        return;
      case 'stall-mid':
        res.writeHead(200, sse);
        res.write(FIRST_PART);
        return;
      case 'garbage':
        res
          .writeHead(200, sse)
          .end('<html>\n<h1>502 Bad Gateway</h1>\n{"not": "an event"\n\u0000\u0001 data: {broken\n\n');
        return;
      case 'binary': {
        const bytes = Buffer.alloc(4096);
        for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) & 0xff;
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
        return;
      }
      case 'invalid-utf8':
        res
          .writeHead(200, sse)
          .end(
            Buffer.concat([
              Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"bad '),
              Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]),
              Buffer.from('"},"finish_reason":null}]}\n\n' + chunk({}, 'stop') + 'data: [DONE]\n\n'),
            ]),
          );
        return;
      case 'wrong-content-type':
        res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' }).end(OK_BODY);
        return;
      case 'huge':
      case 'endless-line': {
        // writes until the peer closes, as fast as the peer reads: a body far larger than any limit
        res.writeHead(200, sse);
        const piece = Buffer.from(fault === 'huge' ? chunk({ content: 'x'.repeat(16 * 1024) }) : 'y'.repeat(64 * 1024));
        if (fault === 'endless-line') res.write('data: ');
        const pump = () => {
          while (!res.destroyed) {
            bytesSent += piece.length;
            if (!res.write(piece)) return void res.once('drain', pump);
          }
        };
        res.on('error', () => {});
        pump();
        return;
      }
      default:
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"unknown fault"}}');
    }
  }

  // idle keep-alive connections are closed by the provider after a second, as many do: a
  // socket still open after that is one the proxy holds
  server.keepAliveTimeout = 1000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const refusedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  return {
    url: (fault, options = {}) => {
      const q = new URLSearchParams();
      if (options.failures !== undefined) q.set('failures', String(options.failures));
      if (options.key !== undefined) q.set('key', options.key);
      const qs = q.toString();
      return `http://127.0.0.1:${port}/${fault}${qs ? `?${qs}` : ''}`;
    },
    refusedUrl: `http://127.0.0.1:${refusedPort}/v1/chat/completions`,
    received,
    get bytesSent() {
      return bytesSent;
    },
    get openSockets() {
      return sockets.size;
    },
    waitForNoSockets(ms = 5000) {
      if (sockets.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${sockets.size} provider socket(s) still open after ${ms} ms: ${[...sockets].map((s) => lastFault.get(s) ?? '(no request)').join(', ')}`,
              ),
            ),
          ms,
        );
        idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
