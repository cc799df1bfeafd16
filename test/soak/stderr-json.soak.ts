// Every line `inference-stream serve` writes to stderr is JSON with a non-empty request_id, run as
// `npm start` runs it (the built bin): one process, `--workers 2`, and a Redis registry whose Redis
// is stopped mid-run. Requests that succeed, 404, 401, 429 over the stream limit, a bad body, a
// process warning, SIGTERM; stdout is the one `listening on` line.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, stopServe, type Running } from '../helpers/serve.js';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, fakeProvider, readStream, type FakeProvider } from '../server/helpers.js';
import { redisUnavailable, startRedis, until, type TestRedis } from '../helpers/redis.js';

const KEY = 'stderr-json-test-key-0123456789';
const AUTH = { authorization: `ApiKey ${KEY}` };

let dir: string;
let preload: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'is-stderr-'));
  // a warning the process emits on demand (SIGUSR2): Node would print it as plain text
  preload = join(dir, 'warn-on-usr2.cjs');
  writeFileSync(
    preload,
    "process.on('SIGUSR2', () => process.emitWarning('a warning\\nover two lines', { code: 'TEST_WARNING' }));\n",
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

const serve = (args: string[], env: Record<string, string> = {}) =>
  startServe(args, {
    INFERENCE_STREAM_DEMO_TPS: '2000',
    INFERENCE_STREAM_API_KEY: KEY,
    NODE_OPTIONS: `--require ${preload}`,
    ...env,
  });
const stop = stopServe;

/** Every stderr line parsed; fails on one that is not a JSON object with a non-empty string request_id. */
function checkedLines(running: Running): Record<string, unknown>[] {
  const text = running.stderr();
  assert.ok(text.endsWith('\n'), 'stderr ends with a whole line');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        assert.fail(`stderr line is not JSON: ${JSON.stringify(line)}`);
      }
      assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), line);
      const record = parsed as Record<string, unknown>;
      assert.equal(typeof record.request_id, 'string', `request_id in ${line}`);
      assert.notEqual(record.request_id, '', `non-empty request_id in ${line}`);
      // one write to a pipe shared by several processes stays whole up to 4 KiB
      assert.ok(Buffer.byteLength(line) < 4096, `a line of ${Buffer.byteLength(line)} bytes: ${line.slice(0, 200)}`);
      return record;
    });
}

/** Status and headers as soon as they come; the body when it ends. */
function start(
  base: string,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
): Promise<{ status: number; body: Promise<string> }> {
  const req = httpRequest(new URL(path, base), {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
  });
  req.end(body);
  return once(req, 'response').then((args) => {
    const res = args[0] as IncomingMessage;
    res.setEncoding('utf8');
    let text = '';
    res.on('data', (c: string) => (text += c));
    return { status: res.statusCode ?? 0, body: once(res, 'end').then(() => text) };
  });
}

/** A provider that answers with one chunk and holds the rest until released. */
let held: FakeProvider;
let releaseHeld: () => void = () => {};
let heldGate: Promise<void> = Promise.resolve();
function holdProvider(): void {
  heldGate = new Promise((r) => (releaseHeld = r));
}

before(async () => {
  held = await fakeProvider(async (_req, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (text: string) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text } }] })}\n\n`;
    res.write(chunk('first'));
    await heldGate;
    res.end(chunk(' last') + 'data: [DONE]\n\n');
  });
});
after(() => held.close());

/** Requests of every kind; the process's log must stay JSON throughout. */
async function drive(running: Running, workers: number): Promise<void> {
  const base = running.url;
  // ok
  assert.equal((await http(base, 'GET', '/', undefined, { ...AUTH, 'x-opaque-id': 'root-ok' })).status, 200);
  assert.equal((await http(base, 'GET', '/_inference/_all', undefined, AUTH)).status, 200);
  const demo = await http(base, 'POST', '/_inference/completion/demo/_stream', { input: 'hello' }, AUTH);
  assert.equal(demo.status, 200);
  assert.equal(readStream(demo.body).done, true);
  // a client's id far longer than a log line should be: echoed whole, logged cut
  const longId = 'long-' + 'x'.repeat(3000);
  const long = await http(base, 'GET', '/_inference/_all', undefined, { ...AUTH, 'x-opaque-id': longId });
  assert.equal(long.status, 200);
  assert.ok(long.headers['x-opaque-id'] === longId, 'the whole id is echoed');
  // 404
  assert.equal((await http(base, 'GET', '/_inference/nothing-here', undefined, AUTH)).status, 404);
  assert.equal((await http(base, 'POST', '/no/such/route', '{}', AUTH)).status, 404);
  // 401
  for (let i = 0; i < 3; i++)
    assert.equal(
      (await http(base, 'GET', '/_inference/_all', undefined, { authorization: `ApiKey wrong-${i}` })).status,
      401,
    );
  assert.equal((await http(base, 'GET', '/_inference/_all')).status, 401);
  // a bad body
  assert.equal((await http(base, 'POST', '/_inference/completion/demo/_stream', '{"input": ', AUTH)).status, 400);
  assert.equal(
    (await http(base, 'PUT', '/_inference/completion/bad-one', { service: 'openai', nonsense: 1 }, AUTH)).status,
    400,
  );
  // 429: one stream per process, each admitted stream held by its provider
  const put = await http(
    base,
    'PUT',
    '/_inference/completion/held',
    { service: 'openai', service_settings: { model_id: 'm', api_key: 'sk-held', url: held.url } },
    AUTH,
  );
  assert.equal(put.status, 200, put.body);
  holdProvider();
  const tries = workers * 3;
  const answers = await Promise.all(
    Array.from({ length: tries }, (_, i) =>
      start(base, 'POST', '/_inference/completion/held/_stream', '{"input":"x"}', {
        ...AUTH,
        'x-opaque-id': `held-${i}`,
      }),
    ),
  );
  const admitted = answers.filter((a) => a.status === 200);
  const refused = answers.filter((a) => a.status === 429);
  assert.equal(admitted.length + refused.length, tries);
  assert.ok(admitted.length >= 1 && admitted.length <= workers, `${admitted.length} admitted`);
  releaseHeld();
  for (const a of admitted) assert.equal(readStream(await a.body).done, true);
  for (const r of refused) await r.body;
  // a process warning
  running.child.kill('SIGUSR2');
}

function expectStdout(running: Running): void {
  assert.equal(running.stdout(), `listening on ${running.url}\n`, 'stdout is the one listening line');
}

describe('every stderr line of serve is JSON with a request_id', () => {
  test('one process', async () => {
    const running = await serve(['--limit', 'maxConcurrentStreams=1']);
    try {
      await drive(running, 1);
      await until(() => running.stderr().includes('TEST_WARNING'), 5000, 'the warning is logged');
    } finally {
      assert.equal(await stop(running), 0);
    }
    expectStdout(running);
    const lines = checkedLines(running);
    const byEvent = (e: string) => lines.filter((l) => l.event === e);
    assert.equal(byEvent('start').length, 1);
    assert.equal(byEvent('stop').length, 1);
    assert.equal(byEvent('stopped').length, 1);
    const warning = byEvent('process_warning');
    assert.equal(warning.length, 1);
    assert.equal(warning[0]!.code, 'TEST_WARNING');
    // control characters are escaped in every value, as in every line
    assert.equal(warning[0]!.reason, 'a warning\\u000aover two lines');
    const rejected = lines.filter((l) => typeof l.unauthorized === 'number');
    assert.equal(
      rejected.reduce((n, l) => n + (l.unauthorized as number), 0),
      4,
    );
    assert.equal(
      rejected.reduce((n, l) => n + (l.over_limit as number), 0),
      2,
    );
    assert.equal(lines.find((l) => l.route === 'root')?.request_id, 'root-ok', "the client's X-Opaque-Id");
    const cut = lines.filter((l) => String(l.request_id).startsWith('long-'));
    assert.equal(cut.length, 1, 'the long id is logged');
    assert.ok(cut[0]!.request_id === ('long-' + 'x'.repeat(3000)).slice(0, 256) + '\u2026', 'and cut');
    const ids = lines.map((l) => l.request_id).filter((id) => !String(id).startsWith('long-'));
    const own = lines.filter((l) => l.msg !== 'request').map((l) => l.request_id);
    assert.equal(new Set(own).size, own.length, 'lines no request caused have ids of their own');
    assert.ok(ids.every((id) => typeof id === 'string' && /^[\w-]+$/.test(id)));
    assert.ok(lines.some((l) => l.msg === 'request' && l.status === 404));
    assert.ok(lines.some((l) => l.msg === 'request' && l.status === 400));
  });

  test('--workers 2', async () => {
    const running = await serve(['--workers', '2', '--limit', 'maxConcurrentStreams=1']);
    try {
      await drive(running, 2);
      await until(() => running.stderr().includes('TEST_WARNING'), 5000, 'the warning is logged');
    } finally {
      assert.equal(await stop(running), 0);
    }
    expectStdout(running);
    const lines = checkedLines(running);
    assert.equal(lines.filter((l) => l.event === 'stopped' && l.worker !== undefined).length, 2);
    assert.ok(lines.some((l) => l.event === 'stopped' && l.role === 'primary'));
    assert.ok(lines.some((l) => l.event === 'process_warning' && l.role === 'primary'));
    assert.ok(lines.some((l) => typeof l.over_limit === 'number' && (l.over_limit as number) > 0));
  });

  describe('with a Redis registry', { skip: redisUnavailable() }, () => {
    let redis: TestRedis;
    before(async () => {
      redis = await startRedis();
    });
    after(() => redis?.stop());

    test('Redis stopped mid-run, then SIGTERM', async () => {
      const running = await serve([
        '--workers',
        '2',
        '--endpoints',
        `redis://127.0.0.1:${redis.port}/0`,
        '--limit',
        'maxConcurrentStreams=1',
      ]);
      try {
        await drive(running, 2);
        await redis.stop();
        await until(() => running.stderr().includes('registry_stale'), 5000, 'the stale registry is logged');
        const cached = await http(running.url, 'POST', '/_inference/completion/held/_stream', { input: 'x' }, AUTH);
        assert.equal(cached.status, 200);
        const refused = await http(
          running.url,
          'PUT',
          '/_inference/completion/another',
          { service: 'openai', service_settings: { model_id: 'm', api_key: 'sk-x', url: held.url } },
          AUTH,
        );
        assert.equal(refused.status, 503);
        await until(() => running.stderr().includes('TEST_WARNING'), 5000, 'the warning is logged');
      } finally {
        assert.equal(await stop(running), 0);
      }
      expectStdout(running);
      const lines = checkedLines(running);
      assert.ok(lines.some((l) => l.event === 'registry_connected'));
      assert.ok(lines.some((l) => l.event === 'registry_stale'));
      assert.ok(lines.some((l) => l.registry_stale === true && l.route === 'stream'));
      assert.equal(lines.filter((l) => l.event === 'stopped').length, 3);
    });
  });
});
