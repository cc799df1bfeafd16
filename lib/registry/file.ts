import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { endpointFileUnreadable, endpointFileUnwritable, invalidEndpointFile, secretsKeyError } from '../errors.js';
import { isObject } from '../json.js';
import { MemoryRegistry } from './memory.js';
import type { PutOptions, StoredEndpoint } from './types.js';
import { isSealed, openEndpoint, sealEndpoint, SecretBox, type SealedValue } from './sealed.js';

interface EndpointFile {
  version: 1;
  /** Present when secrets are sealed: tells a wrong key at start. */
  key_check?: SealedValue;
  endpoints: StoredEndpoint[];
}

export interface FileRegistryOptions {
  /** Seals secret settings in the file (AES-256-GCM). Default: from `INFERENCE_STREAM_SECRETS_KEY`, none when unset. */
  secrets?: SecretBox | null;
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
  /** Endpoints whose secrets were sealed anew at open (they were plain, or sealed with a previous key). */
  readonly resealed: number;
  /** Temp files of crashed writers removed by `open` (they may hold API keys). */
  readonly removedTempFiles: readonly string[];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly box: SecretBox | null;

  private constructor(
    path: string,
    initial: StoredEndpoint[],
    box: SecretBox | null,
    resealed: number,
    removed: string[],
  ) {
    super(initial);
    this.removedTempFiles = removed;
    this.path = path;
    this.box = box;
    this.resealed = resealed;
  }

  /**
   * Loads the file (a missing file is an empty registry). Sealed secrets are opened with the
   * configured key; a wrong or missing key fails here with a clear error, the file untouched.
   */
  static async open(path: string, options: FileRegistryOptions = {}): Promise<FileRegistry> {
    const box = options.secrets === undefined ? SecretBox.fromEnv() : options.secrets;
    const removed = await removeStaleTempFiles(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new FileRegistry(path, [], box, 0, removed);
      throw endpointFileUnreadable(path, err);
    }
    const file = parseEndpointFile(path, text);
    const where = `endpoint file [${path}]`;
    if (file.key_check !== undefined) {
      if (box === null)
        throw secretsKeyError(
          `The secrets in ${where} are encrypted; set INFERENCE_STREAM_SECRETS_KEY to the key they were written with`,
        );
      box.verify(file.key_check, where);
    }
    let stale = box !== null && file.key_check !== undefined && box.isStale(file.key_check) ? 1 : 0;
    const endpoints = file.endpoints.map((e) => {
      const opened = openEndpoint(box, e, where);
      if (opened.stale) stale++;
      return opened.endpoint;
    });
    const registry = new FileRegistry(path, endpoints, box, stale, removed);
    // plain secrets under a key, or a key being rotated out: written again, sealed with the current key
    if (stale > 0) await registry.serialized(() => registry.write());
    return registry;
  }

  override put(endpoint: StoredEndpoint, options?: PutOptions): Promise<boolean> {
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
      await this.write();
    } catch (err) {
      undo();
      throw endpointFileUnwritable(this.path, err);
    }
  }

  private restore(inferenceId: string, endpoint: StoredEndpoint | undefined): void {
    if (endpoint === undefined) this.endpoints.delete(inferenceId);
    else this.endpoints.set(inferenceId, endpoint);
  }

  /** Writes the current state (inside a serialized operation). */
  private async write(): Promise<void> {
    const box = this.box;
    const endpoints = [...this.endpoints.values()];
    const snapshot: EndpointFile =
      box === null
        ? { version: 1, endpoints }
        : { version: 1, key_check: box.keyCheck(), endpoints: endpoints.map((e) => sealEndpoint(box, e)) };
    await writeAtomically(this.path, JSON.stringify(snapshot, null, 2) + '\n');
  }
}

function parseEndpointFile(path: string, text: string): EndpointFile {
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
  if (file.key_check !== undefined && !isSealed(file.key_check)) throw fail('key_check is not a sealed value');
  return file as EndpointFile;
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
