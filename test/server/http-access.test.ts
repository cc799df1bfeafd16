// Access control and limits through the real server: keys, privileges, 401/403 bodies, the
// official client with an API key, unauthenticated requests never reaching a provider, the
// loopback-only default, 431 / 413 / 429, endpoint limits and graceful shutdown.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { Client, errors } from '@elastic/elasticsearch';
import { startInferenceServer, type InferenceServer } from '../../lib/index.js';
import { ApiKeys } from '../../lib/server/api-keys.js';
import { startBadProvider, type BadProvider } from '../helpers/bad-provider.js';
import { call, openStream, stream, EXPECTED, mismatch } from './harness.js';

const MANAGE = 'manage-key-0123456789abcdef';
const MONITOR = 'monitor-key-0123456789abcdef';
const keys = ApiKeys.fromConfig({
  api_keys: [
    { id: 'ops', key: MANAGE, privileges: ['manage_inference'] },
    { id: 'app', key: MONITOR, privileges: ['monitor_inference'] },
  ],
});
const put = (url: string) =>
  JSON.stringify({ service: 'openai', service_settings: { api_key: 'provider-key-123456', model_id: 'm', url } });

describe('access control over HTTP', () => {
  let provider: BadProvider;
  let server: InferenceServer;
  before(async () => {
    provider = await startBadProvider();
    server = await startInferenceServer({
      port: 0,
      demo: false,
      apiKeys: keys,
      limits: { maxConcurrentStreams: 2, maxHeaderBytes: 4096, maxBodyBytes: 2048, maxEndpoints: 3, maxIdLength: 20 },
      retry: { maxAttempts: 1 },
      shutdownGraceMs: 200,
    });
  });
  after(async () => {
    await server.close();
    await provider.close();
  });

  test('no key, a wrong key, other schemes: 401 with the challenge, and the provider is never called', async () => {
    assert.equal(
      (
        await call(server.url, 'PUT', '/_inference/completion/ok', put(provider.url('ok')), {
          authorization: `ApiKey ${MANAGE}`,
        })
      ).status,
      200,
    );
    const before = provider.received.length;
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'ApiKey wrong-key-0123456789' },
      { authorization: `Basic ${Buffer.from(`elastic:${MANAGE}`).toString('base64')}` },
      { authorization: `Bearer ${MANAGE.toUpperCase()}` },
    ]) {
      const answer = await stream(server.url, 'ok', '', headers);
      assert.equal(answer.status, 401, JSON.stringify(headers));
      assert.equal(answer.headers['www-authenticate'], 'ApiKey, Bearer realm="security"');
      assert.equal(answer.headers['x-elastic-product'], 'Elasticsearch');
      const body = JSON.parse(answer.text);
      assert.equal(body.error.type, 'security_exception');
      assert.equal(body.status, 401);
      assert.deepEqual(body.error.root_cause[0].header, { 'WWW-Authenticate': ['ApiKey', 'Bearer realm="security"'] });
      assert.ok(!answer.text.includes(MANAGE) && !answer.text.includes('wrong-key'));
    }
    const missing = JSON.parse((await call(server.url, 'GET', '/_inference/_all?pretty')).text);
    assert.equal(missing.error.reason, 'missing authentication credentials for REST request [/_inference/_all?pretty]');
    assert.equal(
      (await call(server.url, 'GET', '/nowhere')).status,
      401,
      'unknown paths too: nothing is revealed without a key',
    );
    assert.equal(provider.received.length, before, 'no provider call');
  });

  test('privileges: monitor streams and reads; only manage writes; 403 names the action', async () => {
    assert.equal(
      mismatch(await stream(server.url, 'ok', '', { authorization: `Bearer ${MONITOR}` }), EXPECTED.ok),
      null,
    );
    assert.equal(
      (await call(server.url, 'GET', '/_inference/ok', undefined, { authorization: `ApiKey ${MONITOR}` })).status,
      200,
    );
    const denied = await call(server.url, 'PUT', '/_inference/completion/other', put(provider.url('ok')), {
      authorization: `ApiKey ${MONITOR}`,
    });
    assert.equal(denied.status, 403);
    assert.match(
      JSON.parse(denied.text).error.reason,
      /^action \[cluster:admin\/xpack\/inference\/put\] is unauthorized for API key id \[app\] of user \[app\]/,
    );
    const del = await call(server.url, 'DELETE', '/_inference/ok', undefined, { authorization: `ApiKey ${MONITOR}` });
    assert.equal(del.status, 403);
    assert.match(del.text, /cluster:admin\/xpack\/inference\/delete/);
    assert.equal(
      (await call(server.url, 'GET', '/_inference/ok', undefined, { authorization: `ApiKey ${MANAGE}` })).status,
      200,
      'manage includes monitor',
    );
  });

  test('the official client with an API key, plain and as {id, api_key}', async () => {
    for (const apiKey of [MONITOR, { id: 'app', api_key: MONITOR }]) {
      const client = new Client({ node: server.url, auth: { apiKey } });
      const got = await client.inference.get({ inference_id: 'ok' });
      assert.equal(got.endpoints[0]!.inference_id, 'ok');
      await assert.rejects(
        client.inference.delete({ inference_id: 'ok' }),
        (err: unknown) => err instanceof errors.ResponseError && err.statusCode === 403,
      );
      await client.close();
    }
    const anonymous = new Client({ node: server.url });
    await assert.rejects(
      anonymous.inference.get({ inference_id: 'ok' }),
      (err: unknown) => err instanceof errors.ResponseError && err.statusCode === 401,
    );
    await anonymous.close();
  });

  test('limits: body 413, head 431, endpoints and id length 400, concurrent streams 429 before the provider', async () => {
    const auth = { authorization: `ApiKey ${MANAGE}` };
    const big = await call(
      server.url,
      'POST',
      '/_inference/completion/ok/_stream',
      JSON.stringify({ input: 'x'.repeat(4000) }),
      auth,
    );
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.text).error.type, 'content_too_long_exception');

    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.end(`GET /_inference/_all HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    let raw = '';
    socket.on('data', (c: Buffer) => (raw += c));
    await once(socket, 'close');
    assert.match(raw, /^HTTP\/1\.1 431 /);
    assert.equal(JSON.parse(raw.split('\r\n\r\n')[1]!).error.type, 'too_long_http_header_exception');

    const long = await call(
      server.url,
      'PUT',
      `/_inference/completion/${'a'.repeat(21)}`,
      put(provider.url('ok')),
      auth,
    );
    assert.equal(long.status, 400);
    assert.match(long.text, /cannot contain more than 20 characters/);
    for (const id of ['stall-mid', 'e3'])
      assert.equal(
        (
          await call(
            server.url,
            'PUT',
            `/_inference/completion/${id}`,
            put(provider.url(id === 'e3' ? 'ok' : 'stall-mid')),
            auth,
          )
        ).status,
        200,
      );
    const fourth = await call(server.url, 'PUT', '/_inference/completion/e4', put(provider.url('ok')), auth);
    assert.equal(fourth.status, 400);
    assert.match(fourth.text, /limit of \[3\] endpoints/);

    const a = await openStream(server.url, 'stall-mid', 1, auth);
    const b = await openStream(server.url, 'stall-mid', 1, auth);
    const before = provider.received.length;
    const third = await stream(server.url, 'ok', '', auth);
    assert.equal(third.status, 429);
    assert.equal(JSON.parse(third.events[0]!.data).error.type, 'es_rejected_execution_exception');
    assert.equal(provider.received.length, before, 'refused before calling the provider');
    a.req.destroy();
    b.req.destroy();
    await provider.waitForNoSockets();
    assert.equal(mismatch(await stream(server.url, 'ok', '', auth), EXPECTED.ok), null, 'slots are given back');
  });

  test('shutdown: open streams end with an error event after the grace period; the server closes', async () => {
    const auth = { authorization: `ApiKey ${MONITOR}` };
    const { res } = await openStream(server.url, 'stall-mid', 1, auth);
    let text = '';
    res.on('data', (c: Buffer) => (text += c));
    res.resume();
    const ended = once(res, 'end');
    await server.close();
    await ended;
    assert.match(text, /event: error\ndata: \{"error":\{"root_cause":\[\{"type":"node_closed_exception"/);
    assert.equal(server.server.listening, false);
    await provider.waitForNoSockets();
  });
});

describe('binding', () => {
  test('without keys only loopback; a public address is refused with a clear message', async () => {
    await assert.rejects(
      startInferenceServer({ host: '0.0.0.0', port: 0, demo: false }),
      /Refusing to listen on \[0\.0\.0\.0\] without API keys/,
    );
    const local = await startInferenceServer({ host: '127.0.0.1', port: 0, demo: false });
    await local.close();
  });
});
