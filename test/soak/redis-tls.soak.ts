// The Redis registry over TLS (`rediss://`), run as `npm start` runs it: a redis-server that
// speaks only TLS with a certificate from a throwaway CA, the CA given to Node the documented
// way (NODE_EXTRA_CA_CERTS). Two instances share endpoints through it; without the CA the
// start fails with a clear JSON line instead of connecting.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, stopServe } from '../helpers/serve.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, readStream } from '../server/helpers.js';
import { startDemoProvider, type DemoProvider } from '../../lib/server/demo-provider.js';
import { redisUnavailable, startRedis, until, type TestRedis } from '../helpers/redis.js';

function tlsUnavailable(): string | false {
  const redis = redisUnavailable();
  if (redis) return redis;
  if (process.env.CI === 'true') return false;
  const found = spawnSync('openssl', ['version'], { stdio: 'ignore' });
  return found.error || found.status !== 0 ? 'openssl is not installed: the rediss:// test is skipped' : false;
}

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA and a server certificate for 127.0.0.1 signed by it, in `dir` (subjects given: no prompts). */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const key = (out: string) => ['-newkey', 'rsa:2048', '-nodes', '-keyout', out];
  openssl(
    dir,
    'req',
    '-x509',
    ...key('ca.key'),
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=inference-stream test CA',
  );
  openssl(dir, 'req', ...key('server.key'), '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  // prettier-ignore
  openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

const serve = (endpoints: string, env: Record<string, string>) => startServe(['--endpoints', endpoints], env);
const stop = stopServe;

describe('Redis registry over TLS (rediss://)', { skip: tlsUnavailable() }, () => {
  let dir: string;
  let certs: { ca: string; cert: string; key: string };
  let redis: TestRedis;
  let demo: DemoProvider;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'is-rediss-'));
    certs = makeCertificates(dir);
    [redis, demo] = await Promise.all([
      startRedis([], { certFile: certs.cert, keyFile: certs.key }),
      startDemoProvider({ tokensPerSecond: 2000 }),
    ]);
  });
  after(async () => {
    await Promise.all([redis?.stop(), demo?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('two instances share endpoints through a TLS-only Redis whose CA is given in NODE_EXTRA_CA_CERTS', async () => {
    assert.match(redis.url, /^rediss:\/\//);
    const env = { NODE_EXTRA_CA_CERTS: certs.ca };
    // the scheme in capitals is TLS too, never plain text
    const [a, b] = await Promise.all([
      serve(`${redis.url}/0`, env),
      serve(`${redis.url.replace('rediss', 'REDISS')}/0`, env),
    ]);
    try {
      const put = await http(a.url, 'PUT', '/_inference/completion/over-tls', {
        service: 'openai',
        service_settings: { model_id: 'demo-1', api_key: 'sk-tls-test', url: demo.url },
      });
      assert.equal(put.status, 200, put.body);
      await until(async () => (await http(b.url, 'GET', '/_inference/over-tls')).status === 200, 1000, 'seen by b');
      const streamed = await http(b.url, 'POST', '/_inference/completion/over-tls/_stream', { input: 'hi' });
      assert.equal(streamed.status, 200);
      assert.equal(readStream(streamed.body).done, true);
    } finally {
      assert.equal(await stop(a), 0);
      assert.equal(await stop(b), 0);
    }
    for (const line of a.stderr().trim().split('\n')) JSON.parse(line);
    assert.ok(a.stderr().includes('"event":"registry_connected"'));
  });

  test('without the CA the start fails with one clear JSON line, no plain-text fallback', async () => {
    const failed = await serve(`${redis.url}/0`, {}).then(
      async (r) => {
        await stop(r);
        assert.fail('started without trusting the certificate');
      },
      (err: { code: number; err: string }) => err,
    );
    assert.equal(failed.code, 1);
    const lines = failed.err
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const fatal = lines.find((l) => l.event === 'start_failed');
    assert.ok(fatal, failed.err);
    assert.match(String(fatal.reason), /certificate/i);
  });
});
