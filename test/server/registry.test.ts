// Endpoint registry: in memory, JSON file (atomic, 0600, survives restarts, corrupt file
// refused and left alone), secrets stored but never shown.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRegistry, MemoryRegistry, type StoredEndpoint } from '../../lib/index.js';
import { publicEndpoint } from '../../lib/stages.js';
import { handlerServer, http } from './helpers.js';

const endpoint = (id: string): StoredEndpoint => ({
  inference_id: id,
  task_type: 'completion',
  service: 'openai',
  service_settings: { api_key: 'sk-test-secret', model_id: 'm' },
  task_settings: {},
});

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'inference-stream-registry-'));
}

describe('registry', () => {
  test('memory: put refuses an existing id unless overwrite; delete; list sorted', async () => {
    const r = new MemoryRegistry();
    assert.equal(await r.put(endpoint('b')), true);
    assert.equal(await r.put(endpoint('a')), true);
    assert.equal(await r.put(endpoint('a')), false);
    assert.equal(await r.put({ ...endpoint('a'), task_settings: { x: 1 } }, { overwrite: true }), true);
    assert.deepEqual((await r.get('a'))?.task_settings, { x: 1 });
    assert.deepEqual(
      (await r.list()).map((e) => e.inference_id),
      ['a', 'b'],
    );
    assert.equal(await r.delete('a'), true);
    assert.equal(await r.delete('a'), false);
    assert.equal(await r.get('a'), undefined);
  });

  test('publicEndpoint drops every secret and keeps Elasticsearch key order', () => {
    const view = publicEndpoint({
      inference_id: 'x',
      task_type: 'completion',
      service: 'amazonbedrock',
      service_settings: { access_key: 'AK', secret_key: 'SK', region: 'us-east-1', model: 'm' },
      task_settings: { max_new_tokens: 5 },
    });
    assert.deepEqual(Object.keys(view), ['inference_id', 'task_type', 'service', 'service_settings', 'task_settings']);
    assert.deepEqual(view.service_settings, { region: 'us-east-1', model: 'm' });
  });

  test('file: a restart keeps endpoints; the file is 0600 and written atomically', async () => {
    const dir = await tempDir();
    try {
      const path = join(dir, 'endpoints.json');
      const first = await FileRegistry.open(path);
      assert.deepEqual(await first.list(), []);
      await Promise.all([first.put(endpoint('one')), first.put(endpoint('two')), first.put(endpoint('three'))]);
      await first.delete('two');
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.deepEqual(await readdir(dir), ['endpoints.json'], 'no temp file left behind');
      const again = await FileRegistry.open(path);
      assert.deepEqual(
        (await again.list()).map((e) => e.inference_id),
        ['one', 'three'],
      );
      assert.equal((await again.get('one'))?.service_settings.api_key, 'sk-test-secret', 'secrets are kept for use');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('file: a change the file cannot take is taken back in memory too', async () => {
    const dir = await tempDir();
    try {
      const path = join(dir, 'gone', 'endpoints.json'); // its folder does not exist: every write fails
      const r = await FileRegistry.open(path);
      await assert.rejects(r.put(endpoint('a')), { type: 'illegal_state_exception', status: 500 });
      assert.equal(await r.get('a'), undefined);
      assert.deepEqual(await r.list(), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('file: a corrupt file fails to open with a clear error and is not modified', async () => {
    const dir = await tempDir();
    try {
      const path = join(dir, 'endpoints.json');
      for (const bad of [
        '{"version":1,"endpoints":[',
        '{"endpoints":{}}',
        '{"version":1,"endpoints":[{"inference_id":"x"}]}',
      ]) {
        await writeFile(path, bad);
        await assert.rejects(
          () => FileRegistry.open(path),
          (err: Error) => /Endpoint file \[.*endpoints\.json\] is not a valid endpoint file/.test(err.message),
        );
        assert.equal(await readFile(path, 'utf8'), bad);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('through the handler: PUT persists, a new handler on the same file serves it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'endpoints.json');
    const first = await handlerServer({ registry: await FileRegistry.open(path) });
    try {
      const put = await http(first.url, 'PUT', '/_inference/completion/kept', {
        service: 'openai',
        service_settings: { api_key: 'sk-test-secret', model_id: 'm' },
      });
      assert.equal(put.status, 200);
    } finally {
      await first.close();
    }
    const second = await handlerServer({ registry: await FileRegistry.open(path) });
    try {
      const got = await http(second.url, 'GET', '/_inference/kept');
      assert.deepEqual(JSON.parse(got.body).endpoints[0].service_settings, { model_id: 'm' });
    } finally {
      await second.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
