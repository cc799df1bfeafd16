import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const root = new URL('../../', import.meta.url);
/** The built CLI, as `npm start` runs it (npm test builds dist/ first): starts in a fraction of tsx's time. */
export const BIN = new URL('bin/inference-stream.js', root).pathname;

/** A running `inference-stream serve` and what it has written so far. */
export interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

/**
 * Starts `node <node…> serve <args…>` (the built bin unless `node` says otherwise) on port 0
 * and resolves once its first line is `listening on <url>`. Rejects on any other first line,
 * or when it exits before listening, with its exit `code` and `err` (stderr) on the error.
 */
export async function startServe(
  args: string[],
  env: Record<string, string> = {},
  node: string[] = [BIN],
): Promise<Running> {
  const child = spawn(process.execPath, [...node, 'serve', ...args], {
    cwd: root,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (b) => (err += b));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (b) => {
      out += b;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) resolve(m[1]!);
      else if (out.includes('\n')) reject(new Error(`unexpected first line: ${JSON.stringify(out)}`));
    });
    child.once('exit', (code) =>
      reject(Object.assign(new Error(`exited with ${code} before listening: ${err}`), { code, err })),
    );
  });
  return { child, url, stdout: () => out, stderr: () => err };
}

/** SIGTERM, then its exit status (at once if it has exited already). */
export async function stopServe(running: Running): Promise<number | null> {
  if (running.child.exitCode !== null) return running.child.exitCode;
  const exited = once(running.child, 'exit');
  running.child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}
