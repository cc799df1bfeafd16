// The Redis registry against a real redis-server on a loopback port: changes seen by every
// instance, fleet-wide rules (one winner, the fleet's endpoint count, no resurrection),
// secrets sealed at rest, and Redis going away and coming back.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisRegistry, redactRedisUrl, type RegistryEvent } from '../../lib/registry/redis.js';
import { SecretBox } from '../../lib/registry/sealed.js';
import type { StoredEndpoint } from '../../lib/registry/types.js';
import { InferenceError } from '../../lib/errors.js';
import { redisUnavailable, startRedis, until, type TestRedis } from '../helpers/redis.js';

const skip = redisUnavailable();

function endpoint(id: string, key = 'sk-test-' + id): StoredEndpoint {
  return {
    inference_id: id,
    task_type: 'completion',
    service: 'openai',
    service_settings: { model_id: 'm', api_key: key },
    task_settings: {},
  };
}

describe('RedisRegistry', { skip }, () => {
  let redis: TestRedis;
  let prefixN = 0;
  const open = (events?: RegistryEvent[], secrets: SecretBox | null = null, prefix = `t${prefixN}`) =>
    RedisRegistry.open(redis.url, { prefix, secrets, onEvent: (e) => events?.push(e) });
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  test('a PUT on one instance is seen by another within 1 s; a DELETE too', async () => {
    prefixN++;
    const a = await open();
    const b = await open();
    try {
      assert.equal(await a.put(endpoint('one')), true);
      assert.ok((await a.get('one')) !== undefined, 'the writer reads its own write at once');
      const seen = await until(async () => (await b.get('one')) !== undefined, 1000, 'PUT visible on b');
      assert.ok(seen < 1000);
      assert.equal((await b.get('one'))!.service_settings.api_key, 'sk-test-one');
      assert.equal(await b.delete('one'), true);
      await until(async () => (await a.get('one')) === undefined, 1000, 'DELETE visible on a');
      assert.deepEqual(await a.list(), []);
      assert.equal(a.size, 0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('concurrent creates of one id: exactly one wins, across instances', async () => {
    prefixN++;
    const regs = await Promise.all([open(), open(), open()]);
    try {
      for (let round = 0; round < 20; round++) {
        const results = await Promise.all(regs.map((r, i) => r.put(endpoint(`race-${round}`, `sk-${i}-key`))));
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
        const winner = results.indexOf(true);
        for (const r of regs) {
          await until(
            async () => (await r.get(`race-${round}`))?.service_settings.api_key === `sk-${winner}-key`,
            1000,
            'winner everywhere',
          );
        }
      }
    } finally {
      await Promise.all(regs.map((r) => r.close()));
    }
  });

  test('the endpoint limit counts the whole fleet, atomically', async () => {
    prefixN++;
    const a = await open();
    const b = await open();
    try {
      const tries = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).put(endpoint(`n${i}`), { maxEndpoints: 4 })),
      );
      assert.equal(tries.filter((t) => t.status === 'fulfilled' && t.value === true).length, 4);
      const refused = tries.filter((t) => t.status === 'rejected') as PromiseRejectedResult[];
      assert.equal(refused.length, 6);
      for (const r of refused) {
        assert.ok(r.reason instanceof InferenceError);
        assert.equal(r.reason.status, 400);
        assert.match(r.reason.reason, /limit of \[4\] endpoints/);
      }
      // replacing one is not a new endpoint
      await until(async () => (await a.list()).length === 4, 1000, 'a sees all four');
      const stored = (await a.list())[0]!;
      assert.equal(await b.put(stored, { overwrite: true, maxEndpoints: 4 }), true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('an update racing a DELETE never brings the endpoint back', async () => {
    prefixN++;
    const a = await open();
    const b = await open();
    try {
      for (let i = 0; i < 20; i++) {
        const id = `upd-${i}`;
        assert.equal(await a.put(endpoint(id)), true);
        await until(async () => (await b.get(id)) !== undefined, 1000, 'seen');
        const [deleted, updated] = await Promise.all([
          a.delete(id),
          b.put(endpoint(id, 'sk-updated'), { overwrite: true, replaceOnly: true }),
        ]);
        assert.equal(deleted, true);
        const raw = new Redis(redis.url);
        const left = await raw.hget(`t${prefixN}:endpoints`, id);
        raw.disconnect();
        // either the update came first (then the delete removed it) or it found nothing to update
        assert.equal(left, null, `update ${updated ? 'before' : 'after'} the delete`);
        await until(
          async () => (await b.get(id)) === undefined && (await a.get(id)) === undefined,
          1000,
          'gone everywhere',
        );
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('secrets are sealed at rest; a wrong or missing key is a clear error at start', async () => {
    prefixN++;
    const key = randomBytes(32);
    const a = await open(undefined, new SecretBox(key));
    const raw = new Redis(redis.url);
    try {
      await a.put(endpoint('sealed', 'sk-very-secret-value'));
      const stored = (await raw.hget(`t${prefixN}:endpoints`, 'sealed'))!;
      assert.ok(!stored.includes('sk-very-secret-value'));
      assert.match(stored, /"api_key":\{"\$sealed":"v1\./);
      const b = await open(undefined, new SecretBox(key));
      assert.equal((await b.get('sealed'))!.service_settings.api_key, 'sk-very-secret-value');
      await b.close();
      await assert.rejects(
        open(undefined, new SecretBox(randomBytes(32))),
        /INFERENCE_STREAM_SECRETS_KEY is not the key/,
      );
      await assert.rejects(open(undefined, null), /are encrypted; set INFERENCE_STREAM_SECRETS_KEY/);
      // rotation: the new key with the old one as previous opens and seals everything anew
      const next = randomBytes(32);
      const events: RegistryEvent[] = [];
      const c = await open(events, new SecretBox(next, [key]));
      assert.ok(events.some((e) => e.event === 'registry_resealed' && e.endpoints === 1));
      assert.equal((await c.get('sealed'))!.service_settings.api_key, 'sk-very-secret-value');
      await c.close();
      await assert.rejects(open(undefined, new SecretBox(key)), /not the key/);
      const d = await open(undefined, new SecretBox(next));
      assert.equal((await d.get('sealed'))!.service_settings.api_key, 'sk-very-secret-value');
      await d.close();
    } finally {
      raw.disconnect();
      await a.close();
    }
  });

  test('Redis away: reads from the cache (stale), changes fail with 503, all back after restart', async () => {
    prefixN++;
    const events: RegistryEvent[] = [];
    const a = await open(events);
    const b = await open();
    try {
      await a.put(endpoint('kept'));
      await until(async () => (await b.get('kept')) !== undefined, 1000, 'seen');
      await redis.stop();
      await until(() => a.stale, 2000, 'a notices');
      assert.ok(events.some((e) => e.event === 'registry_stale'));
      assert.ok((await a.get('kept')) !== undefined, 'cached endpoints still served');
      const err = await a.put(endpoint('new')).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof InferenceError, String(err));
      assert.equal(err.status, 503);
      assert.equal(err.type, 'cluster_block_exception');
      await assert.rejects(a.delete('kept'), (e: InferenceError) => e.status === 503);
      await redis.start();
      await until(() => !a.stale && !b.stale, 5000, 'reconnected and reloaded');
      assert.ok(events.some((e) => e.event === 'registry_reloaded'));
      assert.equal(await b.put(endpoint('after')), true);
      await until(async () => (await a.get('after')) !== undefined, 1000, 'changes flow again');
      assert.ok((await a.get('kept')) !== undefined, 'nothing lost');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('the password never appears in errors or events', async () => {
    assert.equal(redactRedisUrl('redis://user:hunter2-secret@127.0.0.1:1/0'), 'redis://user:***@127.0.0.1:1/0');
    const events: RegistryEvent[] = [];
    const err = await RedisRegistry.open(`redis://default:hunter2-secret@127.0.0.1:${redis.port}/0`, {
      prefix: 'pw',
      secrets: null,
      connectTimeoutMs: 1500,
      onEvent: (e) => events.push(e),
    }).then(
      (r) => r.close().then(() => null),
      (e: unknown) => e,
    );
    // this server has no password: Redis refuses AUTH; either way nothing may quote it
    const text = JSON.stringify(events) + String(err) + String((err as Error | null)?.message);
    assert.ok(!text.includes('hunter2'), text);
  });
});
