// HTTP request fuzzing of the routes: odd methods, paths, encodings, queries, content types
// and bodies. Every answer is a well-formed Elasticsearch answer; the server never falls over.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { fuzzParams } from '../helpers/fuzz.js';
import { call, registerFault, startProxy, stream, EXPECTED, mismatch, type Proxy } from '../server/harness.js';

const segment = fc.oneof(
  fc.constantFrom(
    '_inference',
    'completion',
    'text_embedding',
    'any',
    'ok',
    '_stream',
    '_all',
    '..',
    '.',
    '',
    '%2F',
    '%00',
    '%E0%A4%A',
    '%ZZ',
    'ÖK',
    'a'.repeat(300),
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 8 }).map(encodeURIComponent),
);
const path = fc.oneof(
  fc.constantFrom(
    '/_inference/completion/ok/_stream',
    '/_inference/ok/_stream',
    '/_inference/completion/ok',
    '/_inference/ok',
    '/_inference/_all',
    '/_inference',
  ),
  fc.array(segment, { maxLength: 5 }).map((s) => '/_inference/' + s.join('/')),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?timeout=1s',
    '?timeout=-1',
    '?timeout=abc',
    '?timeout=99999999d',
    '?timeout=',
    '?pretty',
    '?timeout=1s&timeout=2s',
    '?%ZZ=1',
  ),
  fc.string({ maxLength: 10 }).map((s) => `?timeout=${encodeURIComponent(s)}`),
);
const json = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      input: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.constant('x'.repeat(100_000))),
      task_settings: fc.jsonValue({ maxDepth: 2 }),
      timeout: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      service: fc.oneof(fc.constantFrom('openai', 'nope', ''), fc.jsonValue({ maxDepth: 1 })),
      service_settings: fc.jsonValue({ maxDepth: 2 }),
      task_settings: fc.jsonValue({ maxDepth: 2 }),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ),
);
const body = fc.oneof(
  json.map((v) => JSON.stringify(v) ?? ''),
  fc.constantFrom(
    '',
    '{',
    '{"input":',
    'null',
    '[]',
    '{"input":"a"}{"input":"b"}',
    '\uFEFF{"input":"hi"}',
    '{"input":"\ud800"}',
  ),
  fc.string({ unit: 'binary', maxLength: 100 }),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/vnd.elasticsearch+json; compatible-with=8',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
  'application/json; charset=latin1',
);

describe('HTTP request fuzzing', () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy({ retry: { maxAttempts: 1 } });
    await registerFault(proxy, 'ok', proxy.provider.url('ok'));
  });
  after(() => proxy.close());

  test('every answer is a status with an Elasticsearch body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
        path,
        query,
        body,
        contentType,
        async (method, p, q, b, type) => {
          const answer = await call(
            proxy.url,
            method,
            p + q,
            method === 'GET' || method === 'HEAD' ? undefined : b,
            type ? { 'content-type': type } : {},
          );
          assert.ok(answer.status >= 200 && answer.status < 600, String(answer.status));
          assert.notEqual(
            answer.status,
            500,
            `a 500 is a bug here: ${method} ${p}${q} ${b.slice(0, 100)} → ${answer.text.slice(0, 300)}`,
          );
          if (method === 'HEAD' || answer.status === 200) return;
          const text = answer.events.length > 0 ? answer.events.at(-1)!.data : answer.text;
          const parsed = JSON.parse(text) as { error?: { type?: unknown; reason?: unknown }; status?: unknown };
          assert.equal(typeof parsed.error?.type, 'string', text);
          assert.equal(typeof parsed.error?.reason, 'string', text);
          assert.equal(parsed.status, answer.status, text);
        },
      ),
      fuzzParams(120),
    );
    await registerFault(proxy, 'ok', proxy.provider.url('ok')); // the fuzzer may have deleted or replaced it
    assert.equal(mismatch(await stream(proxy.url, 'ok'), EXPECTED.ok), null, 'still serving');
  });

  test('malformed HTTP and an oversized head get an answer and a closed connection', async () => {
    for (const raw of [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      `GET /_inference/_all HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      'POST /_inference/ok/_stream HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    ]) {
      const socket = connect(new URL(proxy.url).port as unknown as number, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.write(raw);
      const parts: Buffer[] = [];
      socket.on('data', (c: Buffer) => parts.push(c));
      await once(socket, 'close');
      const text = Buffer.concat(parts).toString();
      assert.match(text, /^HTTP\/1\.1 4\d\d /, JSON.stringify(raw.slice(0, 40)));
    }
    await registerFault(proxy, 'ok', proxy.provider.url('ok'));
    assert.equal(mismatch(await stream(proxy.url, 'ok'), EXPECTED.ok), null, 'still serving');
  });
});
