// onDelta and mapError are user code: a hook that throws ends the stream with an error
// naming the hook, never a crash, never a provider failure.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { completionStream, type DeltaObject } from '../../lib/index.js';
import { parseEsEvents, runCompletion, source } from '../helpers/streams.js';
import { fakeProvider, handlerServer, http } from '../server/helpers.js';

const chunk = (content: string) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]}\n\n`;
const BODY = Buffer.from(chunk('one') + chunk('two') + chunk('three') + 'data: [DONE]\n\n');

function errorOf(text: string): { type: string; reason: string; status: number } {
  const events = parseEsEvents(text);
  const last = events.at(-1)!;
  assert.equal(last.event, 'error', text);
  const body = JSON.parse(last.data) as { error: { type: string; reason: string }; status: number };
  return { type: body.error.type, reason: body.error.reason, status: body.status };
}

describe('hooks', () => {
  test('onDelta that throws: the deltas before it are delivered, then an error naming the hook', async () => {
    const seen: DeltaObject[] = [];
    const text = await runCompletion('openai', [BODY], {
      onDelta: (d) => {
        if ('delta' in d && d.delta === 'two') throw new Error('accounting is down');
        seen.push(d);
      },
    });
    const events = parseEsEvents(text);
    assert.equal(events[0]!.data, '{"completion":[{"delta":"one"}]}');
    assert.ok(!text.includes('"two"') && !text.includes('"three"'), 'nothing after the failing delta');
    assert.ok(!text.includes('[DONE]'));
    assert.deepEqual(errorOf(text), {
      type: 'illegal_state_exception',
      reason: 'The [onDelta] hook threw: accounting is down',
      status: 500,
    });
    assert.deepEqual(seen, [{ delta: 'one' }]);
  });

  test('onDelta that throws at the end of input (finish / usage deltas) is reported too', async () => {
    const text = await runCompletion(
      'ollama',
      [Buffer.from('{"message":{"content":"hi"},"done":false}\n{"done":true,"done_reason":"stop"}\n')],
      {
        onDelta: (d) => {
          if ('finish_reason' in d) throw new TypeError('bad hook');
        },
      },
    );
    assert.equal(parseEsEvents(text)[0]!.data, '{"completion":[{"delta":"hi"}]}');
    assert.equal(errorOf(text).reason, 'The [onDelta] hook threw: bad hook');
  });

  test('mapError that throws: the error names the hook and the original reason is not written', async () => {
    const stream = completionStream('openai', {
      status: 401,
      mapError: () => {
        throw new Error('redactor crashed');
      },
    });
    source([Buffer.from('{"error":{"message":"key sk-SECRET-123 is wrong"}}')]).pipe(stream);
    let text = '';
    for await (const b of stream) text += (b as Buffer).toString();
    assert.ok(!text.includes('sk-SECRET-123'), 'what mapError was to remove never reaches the output');
    assert.deepEqual(errorOf(text), {
      type: 'illegal_state_exception',
      reason: 'The [mapError] hook threw: redactor crashed',
      status: 500,
    });
    assert.equal(stream.endedWithError?.reason, 'The [mapError] hook threw: redactor crashed');
  });

  test('mapError that returns a value: the stream ends with it', async () => {
    const text = await runCompletion('openai', [Buffer.from(chunk('a'))], {
      mapError: (e) => e.withReason('rewritten'),
    });
    assert.equal(errorOf(text).reason, 'rewritten');
  });

  test('over HTTP: a throwing onDelta is reported as the hook failing, not as the provider', async () => {
    const provider = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(BODY);
    });
    const server = await handlerServer({
      onDelta: () => {
        throw new Error('hook bug');
      },
    });
    try {
      const put = await http(server.url, 'PUT', '/_inference/completion/hooked', {
        service: 'openai',
        service_settings: { api_key: 'sk-test-secret', model_id: 'm', url: provider.url },
      });
      assert.equal(put.status, 200, put.body);
      for (const path of ['/_inference/completion/hooked/_stream', '/_inference/completion/hooked']) {
        const res = await http(server.url, 'POST', path, { input: 'hi' });
        assert.match(res.body, /The \[onDelta\] hook threw: hook bug/, path);
        assert.doesNotMatch(res.body, /inference provider|status_exception/, path);
      }
    } finally {
      await server.close();
      await provider.close();
    }
  });
  test('over HTTP: a throwing onError still answers the client, and the hook failure is a process warning', async () => {
    const provider = await fakeProvider((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"slow down"}}');
    });
    const server = await handlerServer({
      retry: { maxAttempts: 1 },
      onError: () => {
        throw new Error('onError bug');
      },
    });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const put = await http(server.url, 'PUT', '/_inference/completion/failing', {
        service: 'openai',
        service_settings: { api_key: 'sk-test-secret', model_id: 'm', url: provider.url },
      });
      assert.equal(put.status, 200, put.body);
      const missing = await http(server.url, 'POST', '/_inference/completion/nope/_stream', { input: 'hi' });
      assert.equal(missing.status, 404);
      assert.match(missing.body, /resource_not_found_exception/);
      const failed = await http(server.url, 'POST', '/_inference/completion/failing', { input: 'hi' });
      assert.equal(failed.status, 429);
      assert.match(failed.body, /status_exception/);
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.ok(
        warnings.some((m) => m.includes('The [onError] hook threw: onError bug')),
        warnings.join('; '),
      );
    } finally {
      process.off('warning', onWarning);
      await server.close();
      await provider.close();
    }
  });
});
