import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceError } from '../../lib/errors.js';
import { ApiKeys, credentialOf, hashApiKey } from '../../lib/server/api-keys.js';

const OPS_KEY = 'ops-key-0123456789abcdef';
const APP_KEY = 'app-key-0123456789abcdef';
const keys = ApiKeys.fromConfig({
  api_keys: [
    { id: 'ops', name: 'operations', key_sha256: hashApiKey(OPS_KEY), privileges: ['manage_inference'] },
    { id: 'app', key: APP_KEY, privileges: ['monitor_inference'] },
  ],
});

describe('API keys', () => {
  test('ApiKey and Bearer schemes, any case, find the key; manage implies monitor', () => {
    for (const header of [`ApiKey ${OPS_KEY}`, `Bearer ${OPS_KEY}`, `apikey ${OPS_KEY}`, `BEARER  ${OPS_KEY}`]) {
      const auth = keys.authenticate(header);
      assert.equal(auth.result, 'ok', header);
      if (auth.result === 'ok') {
        assert.equal(auth.identity.id, 'ops');
        assert.equal(auth.identity.name, 'operations');
        assert.deepEqual([...auth.identity.privileges].sort(), ['manage_inference', 'monitor_inference']);
      }
    }
    const app = keys.authenticate(`Bearer ${APP_KEY}`);
    assert.ok(app.result === 'ok' && app.identity.id === 'app' && !app.identity.privileges.has('manage_inference'));
  });

  test("Elasticsearch's encoded form base64(id:key) works, with the right id only", () => {
    const encoded = Buffer.from(`app:${APP_KEY}`).toString('base64');
    const auth = keys.authenticate(`ApiKey ${encoded}`);
    assert.ok(auth.result === 'ok' && auth.identity.id === 'app');
    assert.equal(keys.authenticate(`ApiKey ${Buffer.from(`ops:${APP_KEY}`).toString('base64')}`).result, 'invalid');
    assert.equal(keys.authenticate(`ApiKey ${Buffer.from(`nobody:${APP_KEY}`).toString('base64')}`).result, 'invalid');
  });

  test('missing, other schemes and wrong keys', () => {
    assert.equal(keys.authenticate(undefined).result, 'missing');
    assert.equal(keys.authenticate('').result, 'missing');
    assert.equal(keys.authenticate(`Basic ${Buffer.from('elastic:x').toString('base64')}`).result, 'missing');
    assert.equal(keys.authenticate('ApiKey').result, 'missing');
    assert.equal(keys.authenticate('ApiKey ').result, 'invalid');
    assert.equal(keys.authenticate(`ApiKey ${OPS_KEY}x`).result, 'invalid');
    assert.equal(keys.authenticate(`ApiKey ${OPS_KEY.slice(0, -1)}`).result, 'invalid');
    assert.equal(keys.authenticate(`ApiKey ${hashApiKey(OPS_KEY)}`).result, 'invalid', 'the hash is not the key');
    assert.equal(keys.authenticate(`Bearer ${'k'.repeat(100_000)}`).result, 'invalid');
    assert.equal(credentialOf(['Bearer a', 'Bearer b']), 'a');
  });

  test('bad configurations are refused with a reason that never shows a key', () => {
    const bad: [unknown, RegExp][] = [
      [{}, /expected \{"api_keys"/],
      [{ api_keys: [{ id: 'a b', key: APP_KEY, privileges: ['monitor_inference'] }] }, /id must be/],
      [{ api_keys: [{ id: 'a', key: 'short-secret', privileges: ['monitor_inference'] }] }, /shorter than 16/],
      [
        { api_keys: [{ id: 'a', key: APP_KEY, key_sha256: hashApiKey(APP_KEY), privileges: ['monitor_inference'] }] },
        /exactly one of/,
      ],
      [{ api_keys: [{ id: 'a', key_sha256: 'zz', privileges: ['monitor_inference'] }] }, /64 hex digits/],
      [{ api_keys: [{ id: 'a', key: APP_KEY, privileges: ['all'] }] }, /privileges must list/],
      [{ api_keys: [{ id: 'a', key: APP_KEY, privileges: [] }] }, /privileges must list/],
      [
        {
          api_keys: [
            { id: 'a', key: APP_KEY, privileges: ['monitor_inference'] },
            { id: 'a', key: OPS_KEY, privileges: ['monitor_inference'] },
          ],
        },
        /duplicate id/,
      ],
      [
        {
          api_keys: [
            { id: 'a', key: APP_KEY, privileges: ['monitor_inference'] },
            { id: 'b', key: APP_KEY, privileges: ['monitor_inference'] },
          ],
        },
        /repeats the key/,
      ],
    ];
    for (const [config, why] of bad) {
      assert.throws(
        () => ApiKeys.fromConfig(config, 'keys.json'),
        (err: unknown) => {
          assert.ok(err instanceof InferenceError);
          assert.match(err.reason, why);
          assert.match(err.reason, /keys\.json/);
          assert.ok(!err.reason.includes(APP_KEY) && !err.reason.includes('short-secret'));
          return true;
        },
      );
    }
  });

  test('load: a file, the environment variable (both privileges), both, neither, and unreadable files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keys-'));
    try {
      const file = join(dir, 'keys.json');
      await writeFile(
        file,
        JSON.stringify({
          api_keys: [{ id: 'default', key_sha256: hashApiKey(APP_KEY), privileges: ['monitor_inference'] }],
        }),
      );
      assert.equal(await ApiKeys.load({ env: {} }), null);
      const fromEnv = await ApiKeys.load({ env: { INFERENCE_STREAM_API_KEY: OPS_KEY } });
      const e = fromEnv!.authenticate(`Bearer ${OPS_KEY}`);
      assert.ok(
        e.result === 'ok' &&
          e.identity.privileges.has('manage_inference') &&
          e.identity.privileges.has('monitor_inference'),
      );
      const both = await ApiKeys.load({ file, env: { INFERENCE_STREAM_API_KEY: OPS_KEY } });
      assert.equal(both!.size, 2);
      const envKey = both!.authenticate(`Bearer ${OPS_KEY}`);
      assert.ok(envKey.result === 'ok' && envKey.identity.id === 'default-2', 'the env key gets an id of its own');
      assert.equal(both!.authenticate(`Bearer ${APP_KEY}`).result, 'ok');
      await assert.rejects(ApiKeys.load({ file: join(dir, 'missing.json'), env: {} }), /cannot read it \(ENOENT\)/);
      await writeFile(file, `{"api_keys": [ "${APP_KEY}"`);
      await assert.rejects(
        ApiKeys.load({ file, env: {} }),
        (err: InferenceError) => /not valid JSON/.test(err.reason) && !err.reason.includes(APP_KEY),
      );
      await assert.rejects(ApiKeys.load({ env: { INFERENCE_STREAM_API_KEY: 'too-short' } }), /shorter than 16/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
