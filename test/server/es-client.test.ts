// The official Elasticsearch client (v9) against the handler: put, streamCompletion
// (asStream), completion, get, delete, and errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, errors } from '@elastic/elasticsearch';
import { cases as openaiCases } from '../fixtures/openai.js';
import { cases as anthropicCases } from '../fixtures/anthropic.js';
import { answer, cutEvery } from '../helpers/streams.js';
import { fakeProvider, handlerServer, readStream, settingsFor, writeChunks, type FakeProvider } from './helpers.js';

const openaiOk = openaiCases.find((c) => c.error === null && answer(c.deltas).length > 0)!;
const anthropicOk = anthropicCases.find((c) => c.error === null && answer(c.deltas).length > 0)!;
const openaiUnauthorized = openaiCases.find((c) => c.status === 401)!;

async function readAll(body: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of body) text += chunk.toString();
  return text;
}

describe('official @elastic/elasticsearch client', () => {
  let provider: FakeProvider;
  let server: Awaited<ReturnType<typeof handlerServer>>;
  let client: Client;
  const byPath = new Map([
    ['/openai', openaiOk],
    ['/anthropic', anthropicOk],
    ['/unauthorized', openaiUnauthorized],
  ]);

  before(async () => {
    provider = await fakeProvider(async (req, res) => {
      const c = byPath.get(req.url)!;
      res.writeHead(c.status ?? 200, c.contentType ? { 'content-type': c.contentType } : {});
      await writeChunks(res, cutEvery(Buffer.from(c.body), 17));
    });
    server = await handlerServer();
    client = new Client({ node: server.url });
  });
  after(async () => {
    await client.close();
    await server.close();
    await provider.close();
  });

  test('inference.put registers endpoints; secrets are not returned', async () => {
    const put = await client.inference.put({
      task_type: 'completion',
      inference_id: 'oa',
      inference_config: { service: 'openai', service_settings: settingsFor('openai', provider.url + '/openai') },
    });
    assert.equal(put.inference_id, 'oa');
    assert.equal(put.service, 'openai');
    assert.equal((put.service_settings as Record<string, unknown>).api_key, undefined);
    await client.inference.put({
      task_type: 'completion',
      inference_id: 'an',
      inference_config: {
        service: 'anthropic',
        service_settings: settingsFor('anthropic', provider.url + '/anthropic'),
        task_settings: { max_tokens: 256 },
      },
    });
    await client.inference.put({
      task_type: 'completion',
      inference_id: 'bad-key',
      inference_config: { service: 'openai', service_settings: settingsFor('openai', provider.url + '/unauthorized') },
    });
  });

  test('inference.streamCompletion with asStream gives exactly the expected text', async () => {
    for (const [id, c] of [
      ['oa', openaiOk],
      ['an', anthropicOk],
    ] as const) {
      const res = await client.inference.streamCompletion(
        { inference_id: id, input: 'hello' },
        { asStream: true, meta: true },
      );
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/event-stream');
      const got = readStream(await readAll(res.body as unknown as NodeJS.ReadableStream));
      assert.equal(got.text, answer(c.deltas));
      assert.equal(got.done, true);
      assert.equal(got.error, null);
    }
  });

  test('a failing provider: the error event, with its status', async () => {
    const res = await client.inference.streamCompletion(
      { inference_id: 'bad-key', input: 'hello' },
      { asStream: true, meta: true },
    );
    assert.equal(res.statusCode, 401);
    const got = readStream(await readAll(res.body as unknown as NodeJS.ReadableStream));
    assert.equal(got.text, '');
    assert.ok(got.error);
    assert.equal(got.error.type, 'status_exception');
    assert.match(got.error.reason, /Incorrect API key provided/);
  });

  test('inference.completion (not streamed)', async () => {
    const res = await client.inference.completion({ inference_id: 'oa', input: 'hello' });
    assert.deepEqual(res, { completion: [{ result: answer(openaiOk.deltas) }] });
  });

  test('inference.get, one and all', async () => {
    const one = await client.inference.get({ task_type: 'completion', inference_id: 'an' });
    assert.equal(one.endpoints.length, 1);
    assert.equal(one.endpoints[0]!.inference_id, 'an');
    assert.deepEqual(one.endpoints[0]!.task_settings, { max_tokens: 256 });
    const all = await client.inference.get();
    assert.deepEqual(all.endpoints.map((e) => e.inference_id).sort(), ['an', 'bad-key', 'oa']);
    assert.ok(!JSON.stringify(all).includes('test-secret'));
  });

  test("errors reach the client as ResponseError with Elasticsearch's body", async () => {
    await assert.rejects(
      () => client.inference.get({ inference_id: 'missing' }),
      (err: unknown) => {
        assert.ok(err instanceof errors.ResponseError);
        assert.equal(err.statusCode, 404);
        assert.equal(err.body.error.type, 'resource_not_found_exception');
        assert.equal(err.body.error.reason, 'Inference endpoint not found [missing]');
        return true;
      },
    );
    await assert.rejects(
      () =>
        client.inference.put({
          task_type: 'completion',
          inference_id: 'oa',
          inference_config: { service: 'openai', service_settings: settingsFor('openai', provider.url) },
        }),
      (err: unknown) =>
        err instanceof errors.ResponseError && err.body.error.type === 'resource_already_exists_exception',
    );
  });

  test('inference.delete', async () => {
    const del = await client.inference.delete({ task_type: 'completion', inference_id: 'bad-key' });
    assert.equal(del.acknowledged, true);
    const all = await client.inference.get({ inference_id: '_all' });
    assert.deepEqual(all.endpoints.map((e) => e.inference_id).sort(), ['an', 'oa']);
  });

  test('without X-Elastic-Product the client refuses the server', async () => {
    const quiet = await handlerServer({ elasticProductHeader: false });
    const c = new Client({ node: quiet.url });
    try {
      await assert.rejects(
        () => c.inference.get(),
        (err: unknown) => err instanceof errors.ProductNotSupportedError,
      );
    } finally {
      await c.close();
      await quiet.close();
    }
  });
});
