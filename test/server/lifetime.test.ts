// One request's lifetime end to end: drains counted against the limits and bounded,
// every request in flight answered at shutdown, the close bounded by grace + 0.5 s.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { startInferenceServer } from '../../lib/server/server.js';
import { fakeProvider, http, readStream, type FakeProvider } from './helpers.js';

const CHUNK = 'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n';

/** A provider that streams forever (one chunk per write callback) and counts its open connections. */
async function endlessProvider(): Promise<FakeProvider & { open: () => number; closed: Promise<void>[] }> {
  let open = 0;
  const closed: Promise<void>[] = [];
  const provider = await fakeProvider((_req, res) => {
    open++;
    closed.push(new Promise((resolve) => res.once('close', () => (open--, resolve()))));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const pump = () => {
      if (res.destroyed) return;
      res.write(CHUNK, () => setImmediate(pump));
    };
    pump();
  });
  return Object.assign(provider, { open: () => open, closed });
}

/** Starts a streaming request and resolves once its response headers are in. */
async function startStream(
  base: string,
  path: string,
  read = true,
): Promise<{ res: IncomingMessage; req: ReturnType<typeof httpRequest> }> {
  const req = httpRequest(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json' } });
  req.on('error', () => {});
  req.end('{"input":"x"}');
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.on('error', () => {});
  if (read) res.resume();
  return { res, req };
}

describe('--drain', () => {
  test('drains hold their concurrency slot, so provider connections stay within the limit', async () => {
    const provider = await endlessProvider();
    const server = await startInferenceServer({
      port: 0,
      demo: false,
      onDisconnect: 'drain',
      shutdownGraceMs: 0,
      limits: { maxConcurrentStreams: 2, drainTimeoutMs: 60_000, idleTimeoutMs: 0 },
    });
    try {
      await http(server.url, 'PUT', '/_inference/completion/e', {
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
      });
      let refused = 0;
      for (let i = 0; i < 6; i++) {
        const started = await startStream(server.url, '/_inference/completion/e/_stream');
        if (started.res.statusCode === 429) refused++;
        started.req.destroy(); // the client hangs up: an accepted answer is drained
      }
      assert.equal(refused, 4, 'the drains still count: only two streams at once');
      assert.equal(provider.requests.length, 2);
      assert.ok(provider.open() <= 2, `provider connections: ${provider.open()}`);
    } finally {
      await server.close();
      await provider.close();
    }
  });

  test('a drain ends at its deadline and frees its slot', { timeout: 20_000 }, async () => {
    const provider = await endlessProvider();
    const server = await startInferenceServer({
      port: 0,
      demo: false,
      onDisconnect: 'drain',
      limits: { maxConcurrentStreams: 1, drainTimeoutMs: 200, idleTimeoutMs: 0 },
    });
    try {
      await http(server.url, 'PUT', '/_inference/completion/e', {
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
      });
      const first = await startStream(server.url, '/_inference/completion/e/_stream');
      first.req.destroy();
      await Promise.all(provider.closed); // the deadline closed the provider connection
      const again = await startStream(server.url, '/_inference/completion/e/_stream');
      assert.equal(again.res.statusCode, 200);
      again.req.destroy();
    } finally {
      await server.close();
      await provider.close();
    }
  });

  test('shutdown ends drains after the grace period', async () => {
    const provider = await endlessProvider();
    const server = await startInferenceServer({
      port: 0,
      demo: false,
      onDisconnect: 'drain',
      shutdownGraceMs: 200,
      limits: { drainTimeoutMs: 0, idleTimeoutMs: 0 },
    });
    await http(server.url, 'PUT', '/_inference/completion/e', {
      service: 'openai',
      service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
    });
    const started = await startStream(server.url, '/_inference/completion/e/_stream');
    started.req.destroy();
    const t0 = Date.now();
    await server.close();
    const took = Date.now() - t0;
    await Promise.all(provider.closed);
    assert.ok(took < 200 + 1000, `closed in ${took} ms`);
    await provider.close();
  });
});

describe('shutdown answers every request in flight', () => {
  test('waiting for provider headers, in retry backoff, streaming to a client that does not read: all answered, closed within grace + 1 s', async () => {
    // /silent never answers; /busy answers 503 (a retry then waits); /endless streams forever
    const provider = await fakeProvider((req, res) => {
      if (req.url === '/busy') {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        res.end('{"error":{"message":"busy"}}');
      } else if (req.url === '/endless') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const pump = () => !res.destroyed && res.write(CHUNK.repeat(64), () => setImmediate(pump));
        pump();
      }
    });
    const grace = 300;
    const server = await startInferenceServer({
      port: 0,
      demo: false,
      shutdownGraceMs: grace,
      retry: { maxAttempts: 3, maxRetryAfterMs: 10_000 },
    });
    try {
      for (const id of ['silent', 'busy', 'endless']) {
        await http(server.url, 'PUT', `/_inference/completion/${id}`, {
          service: 'openai',
          service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: `${provider.url}/${id}` },
        });
      }
      const answers = [
        http(server.url, 'POST', '/_inference/completion/silent/_stream', { input: 'x' }),
        http(server.url, 'POST', '/_inference/completion/silent', { input: 'x' }),
        http(server.url, 'POST', '/_inference/completion/busy/_stream', { input: 'x' }),
      ];
      // a streaming client that never reads
      const stuck = await startStream(server.url, '/_inference/completion/endless/_stream', false);
      // every request reached the provider (the busy one is in its backoff after the first try)
      while (provider.requests.length < 4) await new Promise((r) => setImmediate(r));
      const t0 = Date.now();
      await server.close();
      const took = Date.now() - t0;
      assert.ok(took < grace + 1000, `close took ${took} ms`);
      const [silentStream, silentJson, busyStream] = await Promise.all(answers);
      assert.equal(silentStream!.status, 503);
      assert.equal(readStream(silentStream!.body).error?.type, 'node_closed_exception');
      assert.equal(silentJson!.status, 503);
      assert.equal(JSON.parse(silentJson!.body).error.type, 'node_closed_exception');
      assert.equal(busyStream!.status, 503, busyStream!.body);
      // (the server's close resolving means its end of the stuck connection is closed too)
      stuck.req.destroy();
    } finally {
      await provider.close();
    }
  });

  test('an open stream is ended with node_closed_exception once the grace period is over', async () => {
    const provider = await endlessProvider();
    const server = await startInferenceServer({ port: 0, demo: false, shutdownGraceMs: 300 });
    try {
      await http(server.url, 'PUT', '/_inference/completion/e', {
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
      });
      const open = await startStream(server.url, '/_inference/completion/e/_stream');
      let text = '';
      open.res.setEncoding('utf8');
      open.res.on('data', (d) => (text += d));
      const closing = server.close();
      await once(open.res, 'end');
      await closing;
      assert.match(text, /event: error\ndata: .*node_closed_exception/);
    } finally {
      await provider.close();
    }
  });
});
