import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { endpointFileUnreadable, endpointFileUnwritable, invalidEndpointFile } from '../errors.js';
import { isObject } from '../json.js';
import { MemoryRegistry } from './memory.js';
import type { StoredEndpoint } from './types.js';

interface EndpointFile {
  version: 1;
  endpoints: StoredEndpoint[];
}

/**
 * The in-memory registry, persisted to a JSON file after every change. Each change and
 * its save are one operation, run one at a time: a change the file did not take is undone
 * before the next one starts, so memory never holds (and a later save never writes) what
 * was not acknowledged. Writes are atomic (a temp file with mode 0600, fsynced, renamed
 * over the old one), so a crash leaves either the old or the new file; temp files a crashed
 * process left behind are removed at `open`. A file that cannot be read as an endpoint
 * file fails `open` and is left untouched.
 */
export class FileRegistry extends MemoryRegistry {
  readonly path: string;
  /** Temp files of crashed writers removed by `open` (they may hold API keys). */
  readonly removedTempFiles: readonly string[];
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, initial: StoredEndpoint[], removed: string[]) {
    super(initial);
    this.path = path;
    this.removedTempFiles = removed;
  }

  /** Loads the file (a missing file is an empty registry) and removes stale temp files next to it. */
  static async open(path: string): Promise<FileRegistry> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return new FileRegistry(path, [], await removeStaleTempFiles(path));
      throw endpointFileUnreadable(path, err);
    }
    const endpoints = parseEndpointFile(path, text);
    return new FileRegistry(path, endpoints, await removeStaleTempFiles(path));
  }

  override put(endpoint: StoredEndpoint, options?: { overwrite?: boolean }): Promise<boolean> {
    return this.serialized(async () => {
      const before = this.endpoints.get(endpoint.inference_id);
      const stored = await super.put(endpoint, options);
      if (stored) await this.saveOrUndo(() => this.restore(endpoint.inference_id, before));
      return stored;
    });
  }

  override delete(inferenceId: string): Promise<boolean> {
    return this.serialized(async () => {
      const before = this.endpoints.get(inferenceId);
      const deleted = await super.delete(inferenceId);
      if (deleted) await this.saveOrUndo(() => this.restore(inferenceId, before));
      return deleted;
    });
  }

  /** Runs `op` after every operation queued before it (whatever their outcome). */
  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A change the file did not take is taken back, so memory never claims what a restart would lose. */
  private async saveOrUndo(undo: () => void): Promise<void> {
    try {
      const snapshot: EndpointFile = { version: 1, endpoints: [...this.endpoints.values()] };
      await writeAtomically(this.path, JSON.stringify(snapshot, null, 2) + '\n');
    } catch (err) {
      undo();
      throw endpointFileUnwritable(this.path, err);
    }
  }

  private restore(inferenceId: string, endpoint: StoredEndpoint | undefined): void {
    if (endpoint === undefined) this.endpoints.delete(inferenceId);
    else this.endpoints.set(inferenceId, endpoint);
  }
}

/** Whether process `pid` is alive (a temp file of a live writer is not touched). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<file>.<pid>.<hex>.tmp` files of processes that are gone; returns their paths. */
async function removeStaleTempFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = basename(path) + '.';
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m || alive(Number(m[1]))) continue;
    const full = join(dir, name);
    try {
      await unlink(full);
      removed.push(full);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

function parseEndpointFile(path: string, text: string): StoredEndpoint[] {
  const fail = (why: string) => invalidEndpointFile(path, why);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw fail(`invalid JSON: ${(err as Error).message}`);
  }
  const file = data as Partial<EndpointFile> | null;
  if (!file || typeof file !== 'object' || !Array.isArray(file.endpoints))
    throw fail('expected {"version":1,"endpoints":[…]}');
  for (const e of file.endpoints) {
    if (
      !e ||
      typeof e !== 'object' ||
      typeof e.inference_id !== 'string' ||
      typeof e.task_type !== 'string' ||
      typeof e.service !== 'string' ||
      !isObject(e.service_settings) ||
      !isObject(e.task_settings)
    ) {
      throw fail('an endpoint lacks inference_id, task_type, service, service_settings or task_settings');
    }
  }
  return file.endpoints;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
