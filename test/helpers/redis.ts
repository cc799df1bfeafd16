import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server of our own on a free loopback port, for tests. */
export interface TestRedis {
  url: string;
  port: number;
  /** Stops it (SIGTERM, waits for exit). */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the data it had. */
  start(): Promise<void>;
}

/**
 * Why Redis tests cannot run here, or null when they can. Under CI (CI=true) a missing
 * redis-server is not a reason: the tests run and fail, never skip.
 */
export function redisUnavailable(): string | false {
  if (process.env.CI === 'true') return false;
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (found.error || found.status !== 0) {
    return 'redis-server is not installed: Redis registry tests skipped (apt-get install redis-server; CI installs it and never skips)';
  }
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A server certificate and its key (PEM files), for a redis-server that speaks only TLS. */
export interface RedisTls {
  certFile: string;
  keyFile: string;
}

/**
 * Starts redis-server on 127.0.0.1 (append-only file in a temp dir, so a restart keeps the data) and resolves
 * once it accepts connections. With `tls`, it listens only for TLS and the URL is `rediss://`.
 */
export async function startRedis(extraArgs: string[] = [], tls?: RedisTls): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'is-redis-'));
  const listenArgs = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile]
    : ['--port', String(port)];
  if (tls) listenArgs.push('--tls-auth-clients', 'no');
  let child: ChildProcess | null = null;
  const start = async () => {
    const c = spawn(
      'redis-server',
      [
        ...listenArgs,
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        ...extraArgs,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = c;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      c.once('error', reject);
      c.stdout!.on('data', (b: Buffer) => {
        out += b;
        if (out.includes('Ready to accept connections')) resolve();
      });
      c.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
    c.stdout!.resume();
  };
  await start();
  return {
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = once(c, 'exit');
      c.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `check` until it returns true, every 10 ms, failing after `deadlineMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  deadlineMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > deadlineMs) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
