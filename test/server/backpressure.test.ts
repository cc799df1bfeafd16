// A client that disconnects aborts the provider request; a client that stops reading stops
// the provider socket being read. Everything waits for events, never for time.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { fakeProvider, handlerServer, http, readStream, type FakeProvider } from './helpers.js';
import type { DeltaObject } from '../../lib/index.js';

const event = (content: string) =>
  `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;
const BIG = 'x'.repeat(4000);
/** What the provider would write if nothing stopped it: far more than all buffers on the way. */
const TOTAL = 256 * 1024 * 1024;

/** Opens a stream and resolves once its first event arrived; the response is left paused. */
async function openStream(
  base: string,
  id: string,
): Promise<{ req: ClientRequest; res: IncomingMessage; first: string }> {
  const req = httpRequest(new URL(`/_inference/completion/${id}/_stream`, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  req.end('{"input":"go"}');
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const [first] = (await once(res, 'data')) as [Buffer];
  res.pause();
  return { req, res, first: first.toString() };
}

describe('client disconnect and slow clients', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function setup(respond: (res: ServerResponse, url: string) => void | Promise<void>, options = {}) {
    const provider: FakeProvider = await fakeProvider((req, res) => respond(res, req.url));
    const server = await handlerServer(options);
    cleanups.push(
      () => provider.close(),
      () => server.close(),
    );
    await http(server.url, 'PUT', '/_inference/completion/p', {
      service: 'openai',
      service_settings: { api_key: 'k', model_id: 'm', url: provider.url + '/v1/chat/completions' },
    });
    return { provider, server };
  }

  test('disconnect mid-stream closes the provider connection at once', { timeout: 10_000 }, async () => {
    const providerClosed = new EventEmitter();
    let endedByProvider = false;
    const { server } = await setup((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event('first'));
      // Never ends by itself: only the server going away ends this response.
      res.on('close', () => providerClosed.emit('closed', res.writableFinished));
      res.on('finish', () => (endedByProvider = true));
    });
    const closed = once(providerClosed, 'closed');
    const { req, first } = await openStream(server.url, 'p');
    assert.equal(readStream(first).text, 'first');
    req.destroy();
    const [finished] = await closed;
    assert.equal(finished, false, 'the provider socket was closed before its response ended');
    assert.equal(endedByProvider, false);
  });

  test('a stream that ended with an error stops reading the provider', { timeout: 10_000 }, async () => {
    const providerClosed = new EventEmitter();
    const { server } = await setup((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event('ok') + 'data: {not json\n\n');
      res.on('close', () => providerClosed.emit('closed', res.writableFinished));
      // Keeps the response open: only the server closing it ends this test.
    });
    const closed = once(providerClosed, 'closed');
    const res = await http(server.url, 'POST', '/_inference/completion/p/_stream', { input: 'go' });
    const got = readStream(res.body);
    assert.equal(got.text, 'ok');
    assert.ok(got.error);
    assert.deepEqual(await closed, [false]);
  });

  test('disconnect while waiting for the provider headers aborts the request', { timeout: 10_000 }, async () => {
    const arrived = new EventEmitter();
    const { server } = await setup((res) => {
      arrived.emit('request');
      res.on('close', () => arrived.emit('closed'));
    });
    const req = httpRequest(new URL('/_inference/completion/p/_stream', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => undefined);
    const requested = once(arrived, 'request');
    const closed = once(arrived, 'closed');
    req.end('{"input":"go"}');
    await requested;
    req.destroy();
    await closed;
  });

  test(
    'a stalled client stops the provider being read; disconnecting then closes it',
    { timeout: 20_000 },
    async () => {
      const progress = new EventEmitter();
      let written = 0;
      let blocked = false;
      const { server } = await setup((res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.on('close', () => progress.emit('closed'));
        const pump = () => {
          while (written < TOTAL && !res.destroyed) {
            const chunk = event(BIG);
            written += chunk.length;
            if (!res.write(chunk)) {
              blocked = true;
              progress.emit('blocked');
              res.once('drain', () => {
                blocked = false;
                pump();
              });
              return;
            }
          }
          if (!res.destroyed) res.end('data: [DONE]\n\n');
          progress.emit('done'); // everything written: backpressure did not hold
        };
        pump();
      });
      const { req } = await openStream(server.url, 'p');
      // Wait until the provider is blocked and stays blocked across several full round trips
      // through the same server (each gives the server every chance to read more).
      let quiet = 0;
      let done = false;
      progress.once('done', () => (done = true));
      while (quiet < 20 && !done) {
        if (!blocked) {
          quiet = 0;
          await Promise.race([once(progress, 'blocked'), once(progress, 'done')]);
          continue;
        }
        const before = written;
        await http(server.url, 'GET', '/_inference/_all');
        quiet = blocked && written === before ? quiet + 1 : 0;
      }
      assert.ok(written < TOTAL / 4, `the provider wrote ${written} bytes before it blocked`);
      process.stdout.write(
        `# stalled client: provider blocked after ${(written / 1048576).toFixed(1)} MiB of ${TOTAL / 1048576} MiB\n`,
      );
      const closed = once(progress, 'closed');
      req.destroy();
      await closed;
    },
  );

  test('onDisconnect: drain reads the provider to its end and still reports usage', { timeout: 10_000 }, async () => {
    const gate = new EventEmitter();
    const usage: DeltaObject[] = [];
    const sawUsage = new EventEmitter();
    let providerFinished = false;
    const { server } = await setup(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(event('first'));
        gate.once('go', () => {
          res.write(event(' second'));
          res.end(
            'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\ndata: [DONE]\n\n',
          );
          res.on('finish', () => (providerFinished = true));
        });
      },
      {
        onDisconnect: 'drain',
        onDelta: (d: DeltaObject) => {
          if ('usage' in d) {
            usage.push(d);
            sawUsage.emit('usage');
          }
        },
      },
    );
    // The server has seen the disconnect once its side of the socket closed (its own
    // listeners, registered first, have run by then).
    const serverSide = new EventEmitter();
    server.server.once('request', (request: IncomingMessage) =>
      request.socket.once('close', () => serverSide.emit('closed')),
    );
    const { req, res } = await openStream(server.url, 'p');
    res.on('error', () => undefined);
    const gone = once(serverSide, 'closed');
    req.destroy();
    await gone;
    const reported = once(sawUsage, 'usage');
    gate.emit('go');
    await reported;
    assert.deepEqual(usage, [{ usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }]);
    assert.equal(providerFinished, true);
  });
});
