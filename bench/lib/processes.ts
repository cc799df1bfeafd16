import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A child process and the loopback URL it printed once listening. */
export interface Proc {
  child: ChildProcess;
  url: string;
}

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** The child's stderr: shown (the default), read and dropped as a log collector would, or handed to a function. */
  stderr?: 'inherit' | 'drain' | ((chunk: Buffer) => void);
}

/**
 * Starts `node …argv` and resolves once it prints its `http://127.0.0.1:PORT` on stdout;
 * rejects if it exits first.
 */
export function startNode(argv: string[], options: StartOptions = {}): Promise<Proc> {
  const stderr = options.stderr ?? 'inherit';
  const child = spawn(process.execPath, argv, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', stderr === 'inherit' ? 'inherit' : 'pipe'],
    env: options.env ? { ...process.env, ...options.env } : process.env,
  });
  if (stderr === 'drain') child.stderr!.resume();
  else if (typeof stderr === 'function') child.stderr!.on('data', stderr);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`node ${argv.join(' ')} exited with ${code} before listening`)));
  });
}

/** A TypeScript file of bench/ (`http/server-child.ts`) run through tsx in its own process, after `flags` for node. */
export function startScript(file: string, args: string[], flags: string[] = []): Promise<Proc> {
  return startNode([...flags, '--import', 'tsx', fileURLToPath(new URL('../' + file, import.meta.url)), ...args]);
}

/** Stops the child (SIGTERM) and waits for it to exit. */
export function stopProc(p: Proc): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill('SIGTERM');
  });
}

/** CPU milliseconds (user + system) the process `pid` has used, from /proc. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * Builds dist/ (tsc) before an HTTP benchmark: its proxies and the CLI run the library as
 * it is shipped, and never a stale build.
 */
export function buildLibrary(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [root + 'node_modules/typescript/bin/tsc', '-p', root + 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
