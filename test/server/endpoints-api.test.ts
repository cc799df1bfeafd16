// Endpoint management as Elasticsearch answers it (dry_run, `*`, `_update`), the endpoint
// file under a failing write, API keys given as key-file entries, the built-in demo endpoint
// next to a user's, and what `serve` says about its files.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRegistry } from '../../lib/registry/file.js';
import { MemoryRegistry } from '../../lib/registry/memory.js';
import { startInferenceServer } from '../../lib/server/server.js';
import { createInferenceHandler } from '../../lib/server/handler.js';
import { fakeProvider, handlerServer, http, readStream } from './helpers.js';

const OPENAI = (url?: string) => ({
  service: 'openai',
  service_settings: { api_key: 'sk-secret-value-1', model_id: 'm', ...(url ? { url } : {}) },
  task_settings: { temperature: 0.5 },
});

describe('endpoint management', () => {
  test('DELETE ?dry_run=true deletes nothing and says so', async () => {
    const app = await handlerServer();
    try {
      await http(app.url, 'PUT', '/_inference/completion/a', OPENAI());
      const dry = await http(app.url, 'DELETE', '/_inference/completion/a?dry_run=true');
      assert.equal(dry.status, 200);
      assert.equal(dry.body, '{"acknowledged":false,"pipelines":[],"indexes":[]}');
      assert.equal((await http(app.url, 'GET', '/_inference/a')).status, 200, 'still there');
      assert.equal((await http(app.url, 'DELETE', '/_inference/missing?dry_run=true')).status, 404);
      assert.equal(
        (await http(app.url, 'DELETE', '/_inference/a')).body,
        '{"acknowledged":true,"pipelines":[],"indexes":[]}',
      );
      assert.equal((await http(app.url, 'GET', '/_inference/a')).status, 404);
    } finally {
      await app.close();
    }
  });

  test('GET /_inference/* lists every endpoint, /_inference/<task_type>/* one task type', async () => {
    const app = await handlerServer();
    try {
      await http(app.url, 'PUT', '/_inference/completion/a', OPENAI());
      await http(app.url, 'PUT', '/_inference/text_embedding/b', OPENAI());
      const all = JSON.parse((await http(app.url, 'GET', '/_inference/*')).body).endpoints.map(
        (e: { inference_id: string }) => e.inference_id,
      );
      assert.deepEqual(all, ['a', 'b']);
      const some = JSON.parse((await http(app.url, 'GET', '/_inference/completion/*')).body).endpoints.map(
        (e: { inference_id: string }) => e.inference_id,
      );
      assert.deepEqual(some, ['a']);
      assert.equal((await http(app.url, 'PUT', '/_inference/*', OPENAI())).status, 405);
    } finally {
      await app.close();
    }
  });

  test('PUT …/_update changes settings and secrets, never echoes them, and refuses a new service or task type', async () => {
    let auth = '';
    const provider = await fakeProvider((req, res) => {
      auth = String(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\ndata: [DONE]\n\n');
    });
    const app = await handlerServer();
    try {
      await http(app.url, 'PUT', '/_inference/completion/a', OPENAI(provider.url));
      const up = await http(app.url, 'PUT', '/_inference/completion/a/_update', {
        service_settings: { api_key: 'sk-rotated-key-2' },
        task_settings: { temperature: 0.9 },
      });
      assert.equal(up.status, 200, up.body);
      assert.ok(!up.body.includes('sk-rotated-key-2'));
      const shown = JSON.parse(up.body);
      assert.deepEqual(shown.task_settings, { temperature: 0.9 });
      assert.equal(shown.service_settings.model_id, 'm');
      const got = JSON.parse((await http(app.url, 'GET', '/_inference/a')).body).endpoints[0];
      assert.deepEqual(got, shown);
      assert.equal(readStream((await http(app.url, 'POST', '/_inference/a/_stream', { input: 'x' })).body).text, 'ok');
      assert.equal(auth, 'Bearer sk-rotated-key-2', 'the new secret is used');
      assert.equal((await http(app.url, 'PUT', '/_inference/a/_update', { service: 'anthropic' })).status, 400);
      assert.equal((await http(app.url, 'PUT', '/_inference/a/_update', { task_type: 'rerank' })).status, 400);
      assert.equal((await http(app.url, 'PUT', '/_inference/rerank/a/_update', { task_settings: {} })).status, 400);
      assert.equal((await http(app.url, 'PUT', '/_inference/nope/_update', { task_settings: {} })).status, 404);
      assert.equal(
        (await http(app.url, 'PUT', '/_inference/a/_update', { service_settings: { url: 'file:///etc/passwd' } }))
          .status,
        400,
      );
      assert.equal((await http(app.url, 'POST', '/_inference/a/_update', {})).status, 405);
    } finally {
      await app.close();
      await provider.close();
    }
  });
});

describe('endpoint file', () => {
  test('a change whose write fails is not saved by the write queued behind it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'endpoints-'));
    try {
      const file = join(dir, 'endpoints.json');
      const registry = await FileRegistry.open(file);
      let failed = false;
      // the first save of this endpoint fails (as a full disk would), once
      const failing = {
        inference_id: 'first',
        task_type: 'completion',
        service: 'openai',
        task_settings: {},
        service_settings: {
          model_id: {
            toJSON: () => {
              if (!failed) {
                failed = true;
                throw new Error('ENOSPC');
              }
              return 'm';
            },
          },
        },
      };
      const second = {
        inference_id: 'second',
        task_type: 'completion',
        service: 'openai',
        service_settings: { model_id: 'm' },
        task_settings: {},
      };
      const [a, b] = await Promise.allSettled([registry.put(failing as never), registry.put(second)]);
      assert.equal(a.status, 'rejected');
      assert.equal(b.status, 'fulfilled');
      assert.equal(await registry.get('first'), undefined, 'memory dropped it');
      const reopened = await FileRegistry.open(file);
      assert.deepEqual(
        (await reopened.list()).map((e) => e.inference_id),
        ['second'],
        'and so did the file',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("temp files a killed writer left are removed at open (and listed); a live writer's are kept", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'endpoints-'));
    try {
      const file = join(dir, 'endpoints.json');
      const child = spawn(process.execPath, ['-e', '0']);
      await once(child, 'exit');
      const dead = `${file}.${child.pid}.0a1b2c3d.tmp`;
      const live = `${file}.${process.pid}.0a1b2c3d.tmp`;
      await writeFile(dead, '{"api_key":"sk-left-behind"}');
      await writeFile(live, '{}');
      await writeFile(join(dir, 'other.json.1.aa.tmp'), '');
      const registry = await FileRegistry.open(file);
      assert.deepEqual(registry.removedTempFiles, [dead]);
      assert.deepEqual((await readdir(dir)).sort(), [
        'endpoints.json.' + process.pid + '.0a1b2c3d.tmp',
        'other.json.1.aa.tmp',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('serve that cannot write its endpoints file exits 1 at once', async () => {
    const run = "const m = await import('./lib/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";
    const args = [
      '--import',
      'tsx',
      '--input-type=module',
      '--eval',
      run,
      'serve',
      '--port',
      '0',
      '--endpoints',
      '/nonexistent-dir/endpoints.json',
    ];
    const child = spawn(process.execPath, args, {
      cwd: new URL('../../', import.meta.url),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    assert.equal(code, 1, err);
    assert.match(err, /cannot start/);
    assert.match(err, /Cannot write endpoint file/);
  });
});

describe('API keys as key-file entries', () => {
  test('createInferenceHandler({ apiKeys: [{ id, key, privileges }] }): 401 without a key, streams with one', async () => {
    const key = 'a-long-enough-test-key-1';
    const app = await handlerServer({ apiKeys: [{ id: 'k1', key, privileges: ['manage_inference'] }] });
    try {
      assert.equal((await http(app.url, 'GET', '/_inference')).status, 401);
      const auth = { authorization: `ApiKey ${key}` };
      const provider = await fakeProvider((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"choices":[{"index":0,"delta":{"content":"yes"}}]}\n\ndata: [DONE]\n\n');
      });
      assert.equal((await http(app.url, 'PUT', '/_inference/completion/a', OPENAI(provider.url), auth)).status, 200);
      assert.equal(
        readStream((await http(app.url, 'POST', '/_inference/a/_stream', { input: 'x' }, auth)).body).text,
        'yes',
      );
      await provider.close();
      assert.throws(
        () => createInferenceHandler({ apiKeys: [{ id: 'k', key: 'short', privileges: ['manage_inference'] }] }),
        /shorter than 16 characters/,
      );
    } finally {
      await app.close();
    }
  });

  test('a key file other users can read is accepted with a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keys-'));
    try {
      const file = join(dir, 'keys.json');
      await writeFile(
        file,
        JSON.stringify({ api_keys: [{ id: 'a', key: 'a-long-enough-test-key-1', privileges: ['monitor_inference'] }] }),
      );
      await chmod(file, 0o644);
      const { ApiKeys } = await import('../../lib/server/api-keys.js');
      const warnings: string[] = [];
      assert.equal((await ApiKeys.load({ file, env: {}, onWarning: (m) => warnings.push(m) }))?.size, 1);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /readable by other users \(mode 0644\); restrict it with chmod 600/);
      await chmod(file, 0o600);
      warnings.length = 0;
      await ApiKeys.load({ file, env: {}, onWarning: (m) => warnings.push(m) });
      assert.deepEqual(warnings, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the built-in demo endpoint', () => {
  test('a user endpoint named demo is kept (with a warning); a stored built-in one is refreshed', async () => {
    const registry = new MemoryRegistry();
    await registry.put({
      inference_id: 'demo',
      task_type: 'completion',
      service: 'anthropic',
      service_settings: { api_key: 'sk-ant-mine-1234', model_id: 'claude' },
      task_settings: {},
    });
    const warnings: string[] = [];
    const server = await startInferenceServer({ port: 0, registry, onWarning: (m) => warnings.push(m) });
    await server.close();
    assert.equal((await registry.get('demo'))!.service, 'anthropic');
    assert.match(warnings.join('\n'), /\[demo\] already exists and is kept/);
    // an older version's stored built-in demo (dead port) is replaced by the live one
    await registry.put(
      {
        inference_id: 'demo',
        task_type: 'completion',
        service: 'openai',
        service_settings: { model_id: 'demo-1', url: 'http://127.0.0.1:1/v1/chat/completions', api_key: 'demo' },
        task_settings: {},
      },
      { overwrite: true },
    );
    const again = await startInferenceServer({ port: 0, registry, demo: { tokensPerSecond: 5000 } });
    try {
      const res = await http(again.url, 'POST', '/_inference/completion/demo/_stream', { input: 'hi' });
      assert.equal(readStream(res.body).done, true, res.body.slice(0, 300));
    } finally {
      await again.close();
    }
  });
});

test('every endpoint file written is mode 0600 (unchanged by the serialized writes)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'endpoints-'));
  try {
    const file = join(dir, 'e.json');
    const registry = await FileRegistry.open(file);
    await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        registry.put({
          inference_id: id,
          task_type: 'completion',
          service: 'openai',
          service_settings: { model_id: 'm' },
          task_settings: {},
        }),
      ),
    );
    const { mode } = await (await import('node:fs/promises')).stat(file);
    assert.equal(mode & 0o777, 0o600);
    assert.equal(JSON.parse(await readFile(file, 'utf8')).endpoints.length, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
