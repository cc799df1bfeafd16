// The examples (plain http, Express, Fastify) run for real: register, stream, collect,
// error, and their own routes still answer.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import express from 'express';
import { createInferenceHandler } from '../../lib/index.js';
import { start as startPlain } from '../../examples/plain-http.js';
import { start as startExpress } from '../../examples/express.js';
import { start as startFastify } from '../../examples/fastify.js';
import { fakeProvider, http, readStream, sseEvents, type FakeProvider } from './helpers.js';

const sse =
  'data: {"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\ndata: {"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}\n\ndata: [DONE]\n\n';

let provider: FakeProvider;
before(async () => {
  provider = await fakeProvider((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(sse);
  });
});
after(() => provider.close());

/** The same checks for every way of mounting the handler. */
async function exercise(url: string): Promise<void> {
  const put = await http(url, 'PUT', '/_inference/completion/fw', {
    service: 'openai',
    service_settings: { api_key: 'sk-test-secret', model_id: 'm', url: provider.url + '/v1/chat/completions' },
  });
  assert.equal(put.status, 200, put.body);
  assert.equal(put.headers['x-elastic-product'], 'Elasticsearch');
  const stream = await http(url, 'POST', '/_inference/completion/fw/_stream', { input: 'hi' });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers['content-type'], 'text/event-stream');
  assert.deepEqual(readStream(stream.body), { text: 'Hello', done: true, error: null });
  const plain = await http(url, 'POST', '/_inference/fw', { input: 'hi' });
  assert.deepEqual(JSON.parse(plain.body), { completion: [{ result: 'Hello' }] });
  const missing = await http(url, 'POST', '/_inference/completion/nope/_stream', { input: 'hi' });
  assert.equal(missing.status, 404);
  assert.equal(sseEvents(missing.body)[0]!.event, 'error');
  const badJson = await http(url, 'POST', '/_inference/completion/fw/_stream', '{"input":');
  assert.equal(badJson.status, 400);
  assert.equal(JSON.parse(badJson.body).error.type, 'x_content_parse_exception');
  const list = await http(url, 'GET', '/_inference/_all');
  assert.deepEqual(
    JSON.parse(list.body)
      .endpoints.map((e: { inference_id: string }) => e.inference_id)
      .sort(),
    ['demo', 'fw'],
  );
  // the keyless demo endpoint each example comes with
  const demo = await http(url, 'POST', '/_inference/completion/demo/_stream', { input: 'hi' });
  assert.equal(demo.status, 200);
  const answer = readStream(demo.body);
  assert.equal(answer.done, true);
  assert.match(answer.text, /^You said "hi"\./);
}

const fast = { demoTokensPerSecond: 5000 };

describe('examples', () => {
  test('plain node:http', async () => {
    const { server, url } = await startPlain(0, fast);
    try {
      await exercise(url);
    } finally {
      server.close();
      server.closeAllConnections();
      await once(server, 'close');
    }
  });

  test('Express', async () => {
    const { server, url } = await startExpress(0, fast);
    try {
      await exercise(url);
      const health = await http(url, 'GET', '/health');
      assert.deepEqual(JSON.parse(health.body), { ok: true });
    } finally {
      server.close();
      server.closeAllConnections();
      await once(server, 'close');
    }
  });

  test('Fastify', async () => {
    const { app, url } = await startFastify(0, fast);
    try {
      await exercise(url);
      const health = await http(url, 'GET', '/health');
      assert.deepEqual(JSON.parse(health.body), { ok: true });
    } finally {
      await app.close();
    }
  });

  test('a busy port is a listen error (EADDRINUSE) from every example, not a later TypeError', async () => {
    const { server, url } = await startPlain(0, fast);
    const port = Number(new URL(url).port);
    try {
      for (const start of [startPlain, startExpress, startFastify]) {
        await assert.rejects(start(port, fast), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
      }
      // run as a script: a clear message and exit status 1
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('../../examples/express.ts', import.meta.url))],
        {
          env: { ...process.env, PORT: String(port) },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      const [code] = await once(child, 'exit');
      assert.equal(code, 1);
      assert.equal(stderr, `port ${port} is already in use: set PORT to another port (PORT=0 picks a free one)\n`);
    } finally {
      server.close();
      server.closeAllConnections();
      await once(server, 'close');
    }
  });

  test('Express with express.json() before the handler: the parsed body is used', async () => {
    const app = express();
    app.use(express.json({ type: ['application/json', 'application/vnd.elasticsearch+json'] }));
    app.use(createInferenceHandler());
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      await http(url, 'PUT', '/_inference/completion/fw', {
        service: 'openai',
        service_settings: { api_key: 'k', model_id: 'm', url: provider.url + '/v1/chat/completions' },
      });
      const stream = await http(url, 'POST', '/_inference/completion/fw/_stream', JSON.stringify({ input: 'hi' }), {
        'content-type': 'application/vnd.elasticsearch+json; compatible-with=9',
      });
      assert.equal(readStream(stream.body).text, 'Hello');
      const missing = await http(url, 'POST', '/_inference/completion/fw/_stream', { task_settings: {} });
      assert.equal(missing.status, 400);
      assert.match(JSON.parse(sseEvents(missing.body)[0]!.data).error.reason, /Field \[input\] cannot be null/);
    } finally {
      server.close();
      server.closeAllConnections();
      await once(server, 'close');
    }
  });
});
