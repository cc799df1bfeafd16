// `inference-stream serve` as a child process: prints its address, streams the demo,
// keeps endpoints in a file across restarts, exits 0 on SIGTERM, refuses a corrupt file.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, stopServe } from '../helpers/serve.js';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, readStream } from './helpers.js';
import { request as httpRequest, type IncomingMessage } from 'node:http';

/** Starts the built CLI, as `npm start` does, and resolves with the address it printed. */
const serve = (args: string[], env: Record<string, string> = {}) =>
  startServe(args, { INFERENCE_STREAM_DEMO_TPS: '2000', ...env });
const stop = stopServe;

describe('inference-stream serve', () => {
  test('prints its address, streams the demo endpoint with no API key, exits 0 on SIGTERM', async () => {
    const running = await serve([]);
    try {
      const res = await http(running.url, 'POST', '/_inference/completion/demo/_stream', { input: 'hello' });
      assert.equal(res.status, 200);
      const got = readStream(res.body);
      assert.equal(got.done, true);
      assert.ok(got.text.startsWith('You said "hello".'), got.text);
      assert.ok(res.body.split('event: message').length > 20, 'one event per token');
    } finally {
      assert.equal(await stop(running), 0);
    }
  });

  test('--endpoints keeps endpoints across a restart; flags override HOST/PORT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inference-stream-serve-'));
    const file = join(dir, 'endpoints.json');
    try {
      const first = await serve(['--endpoints', file, '--port', '0', '--host', '127.0.0.1'], {
        PORT: '1',
        HOST: '0.0.0.0',
      });
      const put = await http(first.url, 'PUT', '/_inference/completion/mine', {
        service: 'anthropic',
        service_settings: { api_key: 'sk-ant-test-secret', model_id: 'claude' },
      });
      assert.equal(put.status, 200, put.body);
      assert.equal(await stop(first), 0);
      const second = await serve([], { INFERENCE_STREAM_ENDPOINTS: file });
      try {
        const got = await http(second.url, 'GET', '/_inference/mine');
        assert.equal(got.status, 200, got.body);
        assert.equal(JSON.parse(got.body).endpoints[0].service, 'anthropic');
        assert.ok(!got.body.includes('sk-ant-test-secret'));
      } finally {
        assert.equal(await stop(second), 0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a corrupt endpoints file stops the start (exit 1) and is left as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inference-stream-serve-'));
    const file = join(dir, 'endpoints.json');
    try {
      await writeFile(file, '{"version":1,"endpoints":[{');
      await assert.rejects(
        () => serve(['--endpoints', file]),
        /exited with 1 before listening: .*not a valid endpoint file/s,
      );
      assert.equal(await readFile(file, 'utf8'), '{"version":1,"endpoints":[{');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a second SIGTERM during shutdown does not cut the graceful close short (npm start relays signals)', async () => {
    // a slow demo, so that the stream is still open when the signals come
    const running = await serve(['--shutdown-grace', '300', '--demo-tps', '5']);
    const req = httpRequest(new URL('/_inference/completion/demo/_stream', running.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.end('{"input":"hello"}');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (text += d));
    await once(res, 'data');
    const exited = once(running.child, 'exit');
    const t0 = Date.now();
    running.child.kill('SIGTERM');
    // the second one once the close has begun, as npm's relayed copy arrives
    while (!running.stderr().includes('"event":"stop"')) await once(running.child.stderr!, 'data');
    running.child.kill('SIGTERM');
    await once(res, 'end');
    const [code] = await exited;
    assert.equal(code, 0, running.stderr());
    // the server's own account: from the signal to closed, within grace + 1 s (the log's times, so that
    // a saturated machine starting or ending the child process does not count)
    const lines = running
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event?: string; time: string });
    const at = (event: string) => Date.parse(lines.find((l) => l.event === event)!.time);
    assert.ok(at('stopped') - at('stop') < 300 + 1000, `closed after ${at('stopped') - at('stop')} ms`);
    assert.ok(
      lines.some((l) => l.event === 'signal_ignored'),
      'the second signal was seen and ignored',
    );
    assert.ok(Date.now() - t0 < 10_000);
    assert.match(
      text,
      /event: error\ndata: .*node_closed_exception/,
      'the open stream got its error event: the close was graceful',
    );
  });
});
