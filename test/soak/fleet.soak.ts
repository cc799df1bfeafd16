// `inference-stream serve` as a fleet, run as real processes: --workers (one port, two pids,
// one `listening on` line, registry shared through the primary, metrics summed), JSON logs
// with request ids (no forged lines, 401s aggregated), GET / as an Elasticsearch node, and
// two instances sharing a Redis registry (changes within 1 s, one winner, Redis stopped).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, stopServe, type Running } from '../helpers/serve.js';
import { http, readStream, fakeProvider, type FakeProvider } from '../server/helpers.js';
import { startDemoProvider, type DemoProvider } from '../../lib/server/demo-provider.js';
import { availableParallelism } from 'node:os';
import { parseWorkers } from '../../lib/cli/fleet.js';
import { redisUnavailable, startRedis, until, type TestRedis } from '../helpers/redis.js';

const serve = (args: string[], env: Record<string, string> = {}) =>
  startServe(args, { INFERENCE_STREAM_DEMO_TPS: '2000', ...env });
const stop = stopServe;

/** Every stderr line, parsed; fails on a line that is not JSON. */
function logLines(running: Running): Record<string, unknown>[] {
  return running
    .stderr()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`stderr line is not JSON: ${JSON.stringify(l)}`);
      }
    });
}

function openaiEndpoint(url: string, key = 'sk-fleet-test-key') {
  return { service: 'openai', service_settings: { model_id: 'demo-1', api_key: key, url } };
}

describe('serve --workers', () => {
  test('two workers on one port: two pids, one listening line, shared registry, summed metrics, JSON logs, clean SIGTERM', async () => {
    const running = await serve(['--workers', '2']);
    try {
      assert.equal(running.stdout(), `listening on ${running.url}\n`);
      const put = await http(
        running.url,
        'PUT',
        '/_inference/completion/shared',
        openaiEndpoint('http://127.0.0.1:9/v1/chat/completions'),
      );
      assert.equal(put.status, 200, put.body);
      // every worker sees the endpoint at once (the primary sent the change before it answered)
      for (let i = 0; i < 8; i++) {
        const got = await http(running.url, 'GET', '/_inference/shared', undefined, { 'x-opaque-id': `get-${i}` });
        assert.equal(got.status, 200, got.body);
      }
      const again = await http(
        running.url,
        'PUT',
        '/_inference/completion/shared',
        openaiEndpoint('http://127.0.0.1:9/v1/chat/completions'),
      );
      assert.equal(again.status, 400);
      assert.match(again.body, /already exists/);
      const streams = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          http(
            running.url,
            'POST',
            '/_inference/completion/demo/_stream',
            { input: 'hi' },
            { 'x-opaque-id': `stream-${i}` },
          ),
        ),
      );
      let deltas = 0;
      for (const s of streams) {
        assert.equal(s.status, 200);
        assert.equal(readStream(s.body).done, true);
      }
      const metrics = await http(running.url, 'GET', '/_prometheus/metrics');
      assert.equal(metrics.status, 200);
      const requests = /inference_stream_http_requests_total\{route="stream",status="200"\} (\d+)/.exec(metrics.body);
      assert.equal(requests?.[1], '6', 'the streams of both workers are counted');
      deltas = Number(/inference_stream_deltas_total\{service="openai"\} (\d+)/.exec(metrics.body)?.[1]);
      assert.ok(deltas >= 6 * 40, `deltas ${deltas}`);
      const lines = logLines(running);
      const servedBy = new Set(
        lines
          .filter((l) => typeof l.request_id === 'string' && String(l.request_id).startsWith('get-'))
          .map((l) => l.pid),
      );
      const streamedBy = new Set(lines.filter((l) => String(l.request_id).startsWith('stream-')).map((l) => l.pid));
      assert.equal(new Set([...servedBy, ...streamedBy]).size, 2, 'requests were served by two processes');
    } finally {
      assert.equal(await stop(running), 0);
    }
    const lines = logLines(running);
    assert.ok(lines.some((l) => l.event === 'stopped' && l.role === 'primary'));
    assert.equal(
      lines.filter((l) => l.event === 'stopped' && l.worker !== undefined).length,
      2,
      'both workers drained',
    );
    for (const l of lines.filter((l) => l.msg === 'request')) assert.equal(typeof l.request_id, 'string');
  });

  test('--workers: a count or auto, nothing else', () => {
    assert.equal(parseWorkers(undefined), 1);
    assert.equal(parseWorkers('3'), 3);
    assert.equal(parseWorkers('auto'), availableParallelism());
    for (const bad of ['0', 'many', '-1', '1.5', '9999']) assert.equal(parseWorkers(bad), null, bad);
  });
});

describe('serve: node root, logs', () => {
  let provider: FakeProvider;
  before(async () => {
    provider = await fakeProvider((_req, res) => {
      // a hostile provider: its error message tries to forge a log line
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { message: 'bad request\n{"level":"info","msg":"forged","forged":true}\r\n\u0085\u2028end' },
        }),
      );
    });
  });
  after(async () => {
    await provider.close();
  });

  test('GET and HEAD / answer like an Elasticsearch node; the request id is echoed; control characters never reach stderr raw', async () => {
    const running = await serve([]);
    try {
      const rootRes = await http(running.url, 'GET', '/', undefined, { 'x-opaque-id': 'root-1' });
      assert.equal(rootRes.status, 200);
      assert.equal(rootRes.headers['x-opaque-id'], 'root-1');
      assert.equal(rootRes.headers['x-elastic-product'], 'Elasticsearch');
      const info = JSON.parse(rootRes.body);
      assert.equal(typeof info.name, 'string');
      assert.equal(typeof info.cluster_name, 'string');
      assert.equal(typeof info.cluster_uuid, 'string');
      assert.match(info.version.number, /^9\.\d+\.\d+$/);
      assert.equal(info.tagline, 'You Know, for Search');
      const head = await fetch(running.url + '/', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
      const generated = await http(running.url, 'GET', '/_inference/_all');
      assert.match(String(generated.headers['x-opaque-id']), /^[\w-]+$/);

      const put = await http(running.url, 'PUT', '/_inference/completion/hostile', openaiEndpoint(provider.url));
      assert.equal(put.status, 200, put.body);
      const res = await http(
        running.url,
        'POST',
        '/_inference/completion/hostile/_stream',
        { input: 'x' },
        { 'x-opaque-id': 'evil\tid' },
      );
      assert.equal(res.status, 400);
      await http(running.url, 'PUT', '/_inference/completion/bad%0Aid', { service: 'openai' });
    } finally {
      assert.equal(await stop(running), 0);
    }
    const raw = running.stderr();
    assert.ok(!/[\u0085\u2028\r]/.test(raw), 'no raw control characters on stderr');
    const lines = logLines(running);
    assert.ok(!lines.some((l) => l.forged === true || l.msg === 'forged'), 'no forged line');
    const hostile = lines.find((l) => l.inference_id === 'hostile' && l.route === 'stream');
    assert.ok(hostile, 'the request was logged');
    assert.equal(hostile.status, 400);
    assert.equal(hostile.error_type, 'status_exception');
    assert.match(String(hostile.error), /bad request\\u000a\{"level"/);
    assert.equal(hostile.request_id, 'evil\\u0009id');
    for (const l of lines) {
      for (const k of ['time', 'level', 'pid']) assert.ok(k in l, `${k} in ${JSON.stringify(l)}`);
    }
    for (const l of lines.filter((l) => l.msg === 'request')) {
      for (const k of ['request_id', 'method', 'route', 'status', 'duration_ms'])
        assert.ok(k in l, `${k} in ${JSON.stringify(l)}`);
    }
    const stream = lines.find((l) => l.route === 'stream');
    assert.ok(stream && 'inference_id' in stream);
  });

  test('401s are logged aggregated, not one line each', async () => {
    const running = await serve([], { INFERENCE_STREAM_API_KEY: 'fleet-test-api-key-0123456789' });
    try {
      for (let i = 0; i < 25; i++) {
        const r = await http(running.url, 'GET', '/_inference/_all', undefined, { authorization: `ApiKey guess-${i}` });
        assert.equal(r.status, 401);
      }
      const ok = await http(running.url, 'GET', '/_inference/_all', undefined, {
        authorization: 'ApiKey fleet-test-api-key-0123456789',
      });
      assert.equal(ok.status, 200);
      const metrics = await http(running.url, 'GET', '/_prometheus/metrics');
      assert.equal(metrics.status, 401, 'metrics need a key');
    } finally {
      assert.equal(await stop(running), 0);
    }
    const lines = logLines(running);
    assert.equal(lines.filter((l) => l.status === 401).length, 0);
    const aggregated = lines.filter((l) => typeof l.unauthorized === 'number');
    assert.equal(
      aggregated.reduce((n, l) => n + (l.unauthorized as number), 0),
      26,
    );
    assert.ok(aggregated.length <= 2, `${aggregated.length} aggregated lines`);
    assert.ok(!running.stderr().includes('guess-'), 'guessed keys are never logged');
  });
});

const skipRedis = redisUnavailable();

describe('serve with a shared Redis registry', { skip: skipRedis }, () => {
  let redis: TestRedis;
  let demo: DemoProvider;
  before(async () => {
    [redis, demo] = await Promise.all([startRedis(), startDemoProvider({ tokensPerSecond: 2000 })]);
  });
  after(async () => {
    await Promise.all([redis?.stop(), demo?.close()]);
  });

  test('two instances: PUT on one streams on the other within 1 s, DELETE on the other is a 404 on the first, one winner, Redis stopped', async () => {
    const env = { INFERENCE_STREAM_ENDPOINTS: `redis://:not-a-real-password-x1@127.0.0.1:${redis.port}` };
    // this redis has no password: use the URL form without one, and check the one with a password never shows
    const url = `redis://127.0.0.1:${redis.port}/0`;
    const [a, b] = await Promise.all([serve(['--endpoints', url]), serve(['--endpoints', url])]);
    try {
      assert.equal(
        (await http(a.url, 'PUT', '/_inference/completion/fleet-one', openaiEndpoint(demo.url))).status,
        200,
      );
      const seenIn = await until(
        async () => (await http(b.url, 'GET', '/_inference/fleet-one')).status === 200,
        1000,
        'PUT seen by b',
      );
      assert.ok(seenIn <= 1000);
      const streamed = await http(b.url, 'POST', '/_inference/completion/fleet-one/_stream', { input: 'hello' });
      assert.equal(streamed.status, 200);
      assert.equal(readStream(streamed.body).done, true);

      assert.equal((await http(b.url, 'DELETE', '/_inference/fleet-one')).status, 200);
      await until(
        async () =>
          (await http(a.url, 'POST', '/_inference/completion/fleet-one/_stream', { input: 'x' })).status === 404,
        1000,
        'DELETE seen by a',
      );

      const [r1, r2] = await Promise.all([
        http(a.url, 'PUT', '/_inference/completion/fleet-race', openaiEndpoint(demo.url, 'sk-a-key-000')),
        http(b.url, 'PUT', '/_inference/completion/fleet-race', openaiEndpoint(demo.url, 'sk-b-key-000')),
      ]);
      assert.deepEqual([r1.status, r2.status].sort(), [200, 400]);
      assert.match((r1.status === 400 ? r1 : r2).body, /already exists/);

      await until(
        async () => (await http(a.url, 'GET', '/_inference/fleet-race')).status === 200,
        1000,
        'race winner seen by a',
      );
      await redis.stop();
      const cached = await http(a.url, 'POST', '/_inference/completion/fleet-race/_stream', { input: 'still here' });
      assert.equal(cached.status, 200);
      assert.equal(readStream(cached.body).done, true);
      const refused = await http(a.url, 'PUT', '/_inference/completion/fleet-two', openaiEndpoint(demo.url));
      assert.equal(refused.status, 503);
      const body = JSON.parse(refused.body);
      assert.equal(body.status, 503);
      assert.equal(body.error.root_cause[0].type, body.error.type);
      assert.equal((await http(b.url, 'DELETE', '/_inference/fleet-race')).status, 503);
      await redis.start();
      await until(
        async () =>
          (await http(a.url, 'PUT', '/_inference/completion/fleet-two', openaiEndpoint(demo.url))).status === 200,
        5000,
        'changes accepted again',
      );
      await until(
        async () => (await http(b.url, 'GET', '/_inference/fleet-two')).status === 200,
        1000,
        'and seen by b',
      );
      assert.equal((await http(b.url, 'GET', '/_inference/fleet-race')).status, 200, 'nothing lost');
    } finally {
      assert.equal(await stop(a), 0);
      assert.equal(await stop(b), 0);
    }
    const lines = logLines(a);
    assert.ok(
      lines.some((l) => l.event === 'registry_stale'),
      'the stale registry is logged',
    );
    assert.ok(
      lines.some((l) => l.registry_stale === true && l.route === 'stream'),
      'requests served from the stale cache say so',
    );
    // a URL with a password: the password shows nowhere, not even when Redis refuses it
    const withPassword = await serve(['--endpoints', env.INFERENCE_STREAM_ENDPOINTS]).then(
      async (r) => {
        await stop(r);
        return r.stderr() + r.stdout();
      },
      (err: Error) => err.message,
    );
    assert.ok(!withPassword.includes('not-a-real-password-x1'), withPassword);
  });
});
