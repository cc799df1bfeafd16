// The endpoint file under stress: an unreadable file stops the start and is left alone, a
// world-readable file becomes 0600 on the first write, concurrent writes never leave a
// partial file or temp files, and every state on disk is a valid endpoint file.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRegistry } from '../../lib/index.js';
import { serve } from '../../lib/cli/serve.js';

const endpoint = (id: string) => ({
  inference_id: id,
  task_type: 'completion',
  service: 'openai',
  service_settings: { api_key: `sk-${id}-secret`, model_id: 'm' },
  task_settings: {},
});

function io() {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => ((out += s), true) },
      stderr: { write: (s: string) => ((err += s), true) },
      stdin: process.stdin,
    } as never,
    out: () => out,
    err: () => err,
  };
}

describe('endpoint file', () => {
  test('unreadable (a directory) or a missing key file: the start stops with a clear message, nothing is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'endpoints-'));
    try {
      const asDir = join(dir, 'endpoints.json');
      await mkdir(asDir);
      const a = io();
      assert.equal(await serve(['--port', '0', '--no-demo', '--endpoints', asDir], a.io), 1);
      assert.match(a.err(), /Cannot read endpoint file \[.*endpoints\.json\]: EISDIR/);
      assert.deepEqual(await readdir(asDir), []);
      const b = io();
      assert.equal(await serve(['--port', '0', '--no-demo', '--api-keys', join(dir, 'nope.json')], b.io), 1);
      assert.match(b.err(), /Invalid API key configuration in \[.*nope\.json\]: cannot read it \(ENOENT\)/);
      assert.deepEqual((await readdir(dir)).sort(), ['endpoints.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a 0644 file becomes 0600 on the first write; concurrent writes leave a whole file and no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'endpoints-'));
    try {
      const path = join(dir, 'endpoints.json');
      await writeFile(path, JSON.stringify({ version: 1, endpoints: [] }));
      await chmod(path, 0o644);
      const registry = await FileRegistry.open(path);
      const seen: string[] = [];
      let reading = true;
      const reader = (async () => {
        while (reading) {
          seen.push(await readFile(path, 'utf8'));
          await new Promise((r) => setImmediate(r));
        }
      })();
      await Promise.all(Array.from({ length: 40 }, (_, i) => registry.put(endpoint(`e${i}`))));
      await Promise.all(Array.from({ length: 20 }, (_, i) => registry.delete(`e${i * 2}`)));
      reading = false;
      await reader;
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      for (const text of seen)
        assert.ok(Array.isArray(JSON.parse(text).endpoints), 'every state on disk is a whole file');
      const final = JSON.parse(await readFile(path, 'utf8')) as { endpoints: { inference_id: string }[] };
      assert.equal(final.endpoints.length, 20);
      assert.deepEqual(await readdir(dir), ['endpoints.json'], 'no temp files left');
      const reopened = await FileRegistry.open(path);
      assert.equal((await reopened.list()).length, 20);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
