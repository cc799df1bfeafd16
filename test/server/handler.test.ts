// Routes, validation and error shapes of the handler under plain node:http.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { fakeProvider, handlerServer, http, readStream, sseEvents, type FakeProvider } from './helpers.js';

const chunk = (content: string) =>
  `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;

describe('handler under node:http', () => {
  let provider: FakeProvider;
  let server: Awaited<ReturnType<typeof handlerServer>>;
  /** Responses held by the provider until the test releases them (timeout test). */
  const held: ServerResponse[] = [];

  before(async () => {
    provider = await fakeProvider(async (req, res) => {
      if (req.url.startsWith('/hang')) {
        held.push(res);
        return;
      }
      if (req.url.startsWith('/unauthorized')) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          '{"error":{"message":"Incorrect API key provided: sk-te***.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}',
        );
        return;
      }
      if (req.url.startsWith('/overloaded')) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"The engine is currently overloaded","type":"server_error"}}');
        return;
      }
      if (req.url.startsWith('/reset')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk('partial'), () => setImmediate(() => res.socket?.destroy()));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunk('Hello') + chunk(', world') + 'data: [DONE]\n\n');
    });
    server = await handlerServer();
    const put = async (id: string, path: string, taskType = 'completion') =>
      assert.equal(
        (
          await http(server.url, 'PUT', `/_inference/${taskType}/${id}`, {
            service: 'openai',
            service_settings: { api_key: 'sk-test-secret', model_id: 'm', url: provider.url + path },
          })
        ).status,
        200,
      );
    await put('ok', '/v1/chat/completions');
    await put('unauthorized', '/unauthorized');
    await put('overloaded', '/overloaded');
    await put('hang', '/hang');
    await put('reset', '/reset');
    await put('embedder', '/v1/embeddings', 'text_embedding');
  });
  after(async () => {
    for (const res of held) res.destroy();
    await server.close();
    await provider.close();
  });

  const json = (r: { body: string }) => JSON.parse(r.body);
  const errorOf = (r: { body: string }) => json(r).error as { type: string; reason: string; root_cause: unknown[] };

  test('stream: headers, events, [DONE], no buffering headers', async () => {
    const res = await http(server.url, 'POST', '/_inference/completion/ok/_stream', { input: 'hi' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['x-accel-buffering'], 'no');
    assert.equal(res.headers['x-elastic-product'], 'Elasticsearch');
    assert.deepEqual(readStream(res.body), { text: 'Hello, world', done: true, error: null });
    assert.equal(res.body.endsWith('event: message\ndata: [DONE]\n\n'), true);
  });

  test('stream without task type in the path, input as a one-element array', async () => {
    const res = await http(server.url, 'POST', '/_inference/ok/_stream', { input: ['hi'] });
    assert.deepEqual(readStream(res.body), { text: 'Hello, world', done: true, error: null });
  });

  test('non-streaming completion, both paths', async () => {
    for (const path of ['/_inference/completion/ok', '/_inference/ok']) {
      const res = await http(server.url, 'POST', path, { input: 'hi' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(json(res), { completion: [{ result: 'Hello, world' }] });
    }
  });

  test('the provider request carries the input, the model and stream: true', async () => {
    const before = provider.requests.length;
    await http(server.url, 'POST', '/_inference/completion/ok/_stream', {
      input: 'what is 2+2?',
      task_settings: { temperature: 0.5 },
    });
    const sent = provider.requests.slice(before).find((r) => r.url === '/v1/chat/completions');
    assert.ok(sent);
    assert.equal(sent.headers.authorization, 'Bearer sk-test-secret');
    const body = JSON.parse(sent.body);
    assert.deepEqual(body.messages, [{ role: 'user', content: 'what is 2+2?' }]);
    assert.equal(body.model, 'm');
    assert.equal(body.stream, true);
    assert.equal(body.temperature, 0.5);
  });

  test('vendor content type is JSON; the answer uses the vendor type too', async () => {
    const vendor = 'application/vnd.elasticsearch+json; compatible-with=9';
    const res = await http(server.url, 'POST', '/_inference/completion/ok', JSON.stringify({ input: 'hi' }), {
      'content-type': vendor,
      accept: vendor,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.elasticsearch+json;compatible-with=9');
    const v8 = await http(server.url, 'POST', '/_inference/completion/ok/_stream', JSON.stringify({ input: 'hi' }), {
      'content-type': 'application/vnd.elasticsearch+json; compatible-with=8',
    });
    assert.equal(readStream(v8.body).text, 'Hello, world');
  });

  describe('request parsing errors are plain JSON', () => {
    const cases: [string, string | undefined, Record<string, string>, number, string, RegExp][] = [
      ['bad JSON', '{"input":', {}, 400, 'x_content_parse_exception', /Failed to parse request body/],
      ['missing body', undefined, {}, 400, 'parse_exception', /request body is required/],
      ['unknown field', '{"input":"x","foo":1}', {}, 400, 'x_content_parse_exception', /unknown field \[foo\]/],
      ['input of the wrong type', '{"input":3}', {}, 400, 'x_content_parse_exception', /\[input\]/],
      [
        'unsupported content type',
        '{"input":"x"}',
        { 'content-type': 'text/plain' },
        406,
        'media_type_header_exception',
        /Content-Type header \[text\/plain\] is not supported/,
      ],
    ];
    for (const [name, body, headers, status, type, reason] of cases) {
      test(name, async () => {
        const res = await http(server.url, 'POST', '/_inference/completion/ok/_stream', body, headers);
        assert.equal(res.status, status, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const e = errorOf(res);
        assert.equal(e.type, type);
        assert.match(e.reason, reason);
        assert.deepEqual(e.root_cause, [{ type, reason: e.reason }]);
        assert.equal(json(res).status, status);
      });
    }
    test('unknown task type in the path', async () => {
      const res = await http(server.url, 'POST', '/_inference/bogus/ok/_stream', { input: 'x' });
      assert.equal(res.status, 400);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(errorOf(res).reason, 'Unknown task_type [bogus]');
    });
    test('timeout that is not a time value', async () => {
      const res = await http(server.url, 'POST', '/_inference/completion/ok/_stream?timeout=soon', { input: 'x' });
      assert.equal(res.status, 400);
      assert.match(errorOf(res).reason, /failed to parse setting \[timeout\] with value \[soon\]/);
    });
  });

  describe('errors after parsing are one SSE error event with the status', () => {
    const cases: [string, string, unknown, number, string, RegExp][] = [
      [
        'missing input',
        '/_inference/completion/ok/_stream',
        {},
        400,
        'action_request_validation_exception',
        /^Validation Failed: 1: Field \[input\] cannot be null;$/,
      ],
      [
        'empty input array',
        '/_inference/completion/ok/_stream',
        { input: [] },
        400,
        'action_request_validation_exception',
        /Field \[input\] cannot be an empty array/,
      ],
      [
        'empty input string',
        '/_inference/completion/ok/_stream',
        { input: '' },
        400,
        'action_request_validation_exception',
        /Field \[input\]/,
      ],
      [
        'more than one input',
        '/_inference/completion/ok/_stream',
        { input: ['a', 'b'] },
        400,
        'action_request_validation_exception',
        /exactly one/,
      ],
      [
        'unknown inference id',
        '/_inference/completion/nope/_stream',
        { input: 'x' },
        404,
        'resource_not_found_exception',
        /^Inference endpoint not found \[nope\]$/,
      ],
      [
        'task type mismatch',
        '/_inference/rerank/ok/_stream',
        { input: 'x' },
        400,
        'status_exception',
        /^Incompatible task_type, the requested type \[rerank\] does not match the model type \[completion\]$/,
      ],
      [
        'streaming a task other than completion',
        '/_inference/embedder/_stream',
        { input: 'x' },
        405,
        'status_exception',
        /^Streaming is not allowed for service \[openai\] and task \[text_embedding\]/,
      ],
      [
        'provider 401',
        '/_inference/completion/unauthorized/_stream',
        { input: 'x' },
        401,
        'status_exception',
        /^Received an authentication error status code for request from inference entity id \[unauthorized\] status \[401\]\. Error message: \[Incorrect API key provided/,
      ],
      [
        'provider 503 becomes 400',
        '/_inference/completion/overloaded/_stream',
        { input: 'x' },
        400,
        'status_exception',
        /status \[503\]/,
      ],
    ];
    for (const [name, path, body, status, type, reason] of cases) {
      test(name, async () => {
        const res = await http(server.url, 'POST', path, body);
        assert.equal(res.status, status, res.body);
        assert.equal(res.headers['content-type'], 'text/event-stream');
        assert.equal(res.headers['x-elastic-product'], 'Elasticsearch');
        const events = sseEvents(res.body);
        assert.equal(events.length, 1, res.body);
        assert.equal(events[0]!.event, 'error');
        const data = JSON.parse(events[0]!.data);
        assert.equal(data.status, status);
        assert.equal(data.error.type, type);
        assert.match(data.error.reason, reason);
        assert.ok(!res.body.includes('sk-test-secret'));
      });
    }
    test('the same errors on the non-streaming route are JSON', async () => {
      const res = await http(server.url, 'POST', '/_inference/completion/nope', { input: 'x' });
      assert.equal(res.status, 404);
      assert.equal(errorOf(res).type, 'resource_not_found_exception');
      const unauthorized = await http(server.url, 'POST', '/_inference/completion/unauthorized', { input: 'x' });
      assert.equal(unauthorized.status, 401);
      assert.match(errorOf(unauthorized).reason, /authentication error/);
    });
  });

  test('timeout bounds the wait for the provider headers: 408 error event', async () => {
    const started = performance.now();
    const res = await http(server.url, 'POST', '/_inference/completion/hang/_stream?timeout=150ms', { input: 'x' });
    assert.equal(res.status, 408);
    const events = sseEvents(res.body);
    assert.equal(events[0]!.event, 'error');
    assert.equal(JSON.parse(events[0]!.data).error.type, 'timeout_exception');
    assert.ok(performance.now() - started >= 140);
  });

  test('provider connection lost mid-stream: text so far, then event: error, no [DONE]', async () => {
    const res = await http(server.url, 'POST', '/_inference/completion/reset/_stream', { input: 'x' });
    assert.equal(res.status, 200);
    const got = readStream(res.body);
    assert.equal(got.text, 'partial');
    assert.equal(got.done, false);
    assert.ok(got.error);
    assert.equal(got.error.status, 500);
  });

  test('provider unreachable: error event, status 500, no secret', async () => {
    const dead = await fakeProvider(() => undefined);
    await dead.close();
    await http(server.url, 'PUT', '/_inference/completion/dead', {
      service: 'openai',
      service_settings: { api_key: 'sk-test-secret', model_id: 'm', url: dead.url + '/v1' },
    });
    const res = await http(server.url, 'POST', '/_inference/completion/dead/_stream', { input: 'x' });
    assert.equal(res.status, 500);
    const events = sseEvents(res.body);
    assert.match(
      JSON.parse(events[0]!.data).error.reason,
      /^Failed to send request from inference entity id \[dead\]: ECONNREFUSED/,
    );
  });

  describe('routes', () => {
    test('unknown route 404, wrong method 405 with Allow', async () => {
      const unknown = await http(server.url, 'GET', '/_inference/a/b/c/d');
      assert.equal(unknown.status, 404);
      assert.match(errorOf(unknown).reason, /no handler found for uri/);
      const other = await http(server.url, 'GET', '/somewhere');
      assert.equal(other.status, 404);
      const wrong = await http(server.url, 'GET', '/_inference/completion/ok/_stream');
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.allow, 'POST');
      assert.match(errorOf(wrong).reason, /Incorrect HTTP method/);
      const patch = await http(server.url, 'PATCH', '/_inference/completion/ok');
      assert.equal(patch.status, 405);
    });
  });

  describe('endpoints: PUT, GET, DELETE', () => {
    const settings = {
      api_key: 'sk-test-secret',
      model_id: 'gpt-4o-mini',
      url: 'http://127.0.0.1:9/v1/chat/completions',
    };
    test('PUT returns the endpoint without secrets; GET by id, by task type, _all', async () => {
      const put = await http(server.url, 'PUT', '/_inference/completion/crud-1', {
        service: 'openai',
        service_settings: settings,
        task_settings: { temperature: 0.2 },
      });
      assert.equal(put.status, 200);
      const expected = {
        inference_id: 'crud-1',
        task_type: 'completion',
        service: 'openai',
        service_settings: { model_id: 'gpt-4o-mini', url: settings.url },
        task_settings: { temperature: 0.2 },
      };
      assert.deepEqual(json(put), expected);
      assert.deepEqual(json(await http(server.url, 'GET', '/_inference/crud-1')), { endpoints: [expected] });
      assert.deepEqual(json(await http(server.url, 'GET', '/_inference/completion/crud-1')), { endpoints: [expected] });
      const all = json(await http(server.url, 'GET', '/_inference/_all'));
      assert.ok(all.endpoints.some((e: { inference_id: string }) => e.inference_id === 'crud-1'));
      assert.ok(!JSON.stringify(all).includes('sk-test-secret'));
      const byType = json(await http(server.url, 'GET', '/_inference/text_embedding/_all'));
      assert.deepEqual(
        byType.endpoints.map((e: { inference_id: string }) => e.inference_id),
        ['embedder'],
      );
      const wrongType = await http(server.url, 'GET', '/_inference/rerank/crud-1');
      assert.equal(wrongType.status, 400);
      assert.match(
        errorOf(wrongType).reason,
        /Requested task type \[rerank\] does not match the inference endpoint's task type \[completion\]/,
      );
    });
    test('PUT with the task type in the body; empty task_settings omitted', async () => {
      const put = await http(server.url, 'PUT', '/_inference/crud-2', {
        task_type: 'completion',
        service: 'anthropic',
        service_settings: { api_key: 'sk-ant-test-secret', model_id: 'claude' },
      });
      assert.equal(put.status, 200, put.body);
      assert.deepEqual(json(put), {
        inference_id: 'crud-2',
        task_type: 'completion',
        service: 'anthropic',
        service_settings: { model_id: 'claude' },
      });
    });
    const bad: [string, string, unknown, number, RegExp][] = [
      [
        'duplicate id',
        '/_inference/completion/ok',
        { service: 'openai', service_settings: settings },
        400,
        /Inference endpoint \[ok\] already exists/,
      ],
      [
        'missing service',
        '/_inference/completion/x1',
        { service_settings: settings },
        400,
        /missing the \[service\] setting/,
      ],
      [
        'unknown service',
        '/_inference/completion/x2',
        { service: 'nope', service_settings: {} },
        400,
        /^Unknown service \[nope\]/,
      ],
      [
        'missing required setting',
        '/_inference/completion/x3',
        { service: 'openai', service_settings: { model_id: 'm' } },
        400,
        /does not contain the required setting \[api_key\]/,
      ],
      [
        'invalid id',
        '/_inference/completion/Bad_ID',
        { service: 'openai', service_settings: settings },
        400,
        /Invalid inference_id/,
      ],
      [
        'no task type anywhere',
        '/_inference/x4',
        { service: 'openai', service_settings: settings },
        400,
        /missing required setting \[task_type\]/,
      ],
      [
        'conflicting task types',
        '/_inference/completion/x5',
        { task_type: 'rerank', service: 'openai', service_settings: settings },
        400,
        /conflicting task_type/,
      ],
      [
        'unknown top-level field',
        '/_inference/completion/x6',
        { service: 'openai', service_settings: settings, extra: 1 },
        400,
        /\[extra\]/,
      ],
      [
        'unknown task type',
        '/_inference/bogus/x7',
        { service: 'openai', service_settings: settings },
        400,
        /Unknown task_type \[bogus\]/,
      ],
    ];
    for (const [name, path, body, status, reason] of bad) {
      test(`PUT rejects: ${name}`, async () => {
        const res = await http(server.url, 'PUT', path, body);
        assert.equal(res.status, status, res.body);
        assert.match(errorOf(res).reason, reason);
      });
    }
    test('DELETE acknowledges, then 404', async () => {
      await http(server.url, 'PUT', '/_inference/completion/crud-3', { service: 'openai', service_settings: settings });
      const wrongType = await http(server.url, 'DELETE', '/_inference/rerank/crud-3');
      assert.equal(wrongType.status, 400);
      const del = await http(server.url, 'DELETE', '/_inference/completion/crud-3');
      assert.deepEqual(json(del), { acknowledged: true, pipelines: [], indexes: [] });
      const again = await http(server.url, 'DELETE', '/_inference/crud-3');
      assert.equal(again.status, 404);
      assert.equal(errorOf(again).reason, 'Inference endpoint not found [crud-3]');
      assert.equal((await http(server.url, 'GET', '/_inference/crud-3')).status, 404);
    });
  });

  test('X-Elastic-Product can be turned off; bom: true prefixes every event', async () => {
    const quiet = await handlerServer({ elasticProductHeader: false, bom: true });
    try {
      await http(quiet.url, 'PUT', '/_inference/completion/ok', {
        service: 'openai',
        service_settings: { api_key: 'k', model_id: 'm', url: provider.url + '/v1/chat/completions' },
      });
      const res = await http(quiet.url, 'POST', '/_inference/completion/ok/_stream', { input: 'hi' });
      assert.equal(res.headers['x-elastic-product'], undefined);
      const blocks = res.body.split('\n\n').filter(Boolean);
      assert.ok(blocks.length >= 2);
      for (const b of blocks) assert.ok(b.startsWith('\uFEFFevent: '), JSON.stringify(b));
    } finally {
      await quiet.close();
    }
  });

  test('headers go out when the provider answers, before the answer is complete', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = await fakeProvider(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('first'));
      await gate;
      res.end(chunk(' second') + 'data: [DONE]\n\n');
    });
    try {
      await http(server.url, 'PUT', '/_inference/completion/slow', {
        service: 'openai',
        service_settings: { api_key: 'k', model_id: 'm', url: slow.url + '/v1/chat/completions' },
      });
      const req = httpRequest(new URL('/_inference/completion/slow/_stream', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.end('{"input":"x"}');
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      assert.equal(res.statusCode, 200);
      const [first] = (await once(res, 'data')) as [Buffer];
      assert.equal(readStream(first.toString()).text, 'first');
      release();
      let rest = '';
      for await (const b of res) rest += b;
      assert.equal(readStream(rest).text, ' second');
      assert.ok(readStream(rest).done);
    } finally {
      release();
      await slow.close();
    }
  });
});
