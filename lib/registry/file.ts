import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { endpointFileUnreadable, endpointFileUnwritable, invalidEndpointFile } from '../errors.js';
import { isObject } from '../json.js';
import { MemoryRegistry } from './memory.js';
import type { StoredEndpoint } from './types.js';

interface EndpointFile {
  version: 1;
  endpoints: StoredEndpoint[];
}

/**
 * The in-memory registry, persisted to a JSON file after every change. Writes are
 * atomic (a temp file with mode 0600, fsynced, renamed over the old one) and
 * serialized, so a crash leaves either the old or the new file. A file that cannot be
 * read as an endpoint file fails `open` and is left untouched.
 */
export class FileRegistry extends MemoryRegistry {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();

  private constructor(path: string, initial: StoredEndpoint[]) {
    super(initial);
    this.path = path;
  }

  /** Loads the file (a missing file is an empty registry). */
  static async open(path: string): Promise<FileRegistry> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new FileRegistry(path, []);
      throw endpointFileUnreadable(path, err);
    }
    return new FileRegistry(path, parseEndpointFile(path, text));
  }

  override async put(endpoint: StoredEndpoint, options?: { overwrite?: boolean }): Promise<boolean> {
    const before = this.endpoints.get(endpoint.inference_id);
    const stored = await super.put(endpoint, options);
    if (stored) await this.saveOrUndo(() => this.restore(endpoint.inference_id, before));
    return stored;
  }

  override async delete(inferenceId: string): Promise<boolean> {
    const before = this.endpoints.get(inferenceId);
    const deleted = await super.delete(inferenceId);
    if (deleted) await this.saveOrUndo(() => this.restore(inferenceId, before));
    return deleted;
  }

  /** A change the file did not take is taken back, so memory never claims what a restart would lose. */
  private async saveOrUndo(undo: () => void): Promise<void> {
    try {
      await this.save();
    } catch (err) {
      undo();
      throw endpointFileUnwritable(this.path, err);
    }
  }

  private restore(inferenceId: string, endpoint: StoredEndpoint | undefined): void {
    if (endpoint === undefined) this.endpoints.delete(inferenceId);
    else this.endpoints.set(inferenceId, endpoint);
  }

  /** Writes the current state; concurrent changes queue behind one another. */
  private save(): Promise<void> {
    const snapshot: EndpointFile = { version: 1, endpoints: [...this.endpoints.values()] };
    const next = this.writing.then(() => writeAtomically(this.path, JSON.stringify(snapshot, null, 2) + '\n'));
    this.writing = next.catch(() => undefined);
    return next;
  }
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
  if (!file || typeof file !== 'object' || !Array.isArray(file.endpoints)) throw fail('expected {"version":1,"endpoints":[…]}');
  for (const e of file.endpoints) {
    if (
      !e || typeof e !== 'object' || typeof e.inference_id !== 'string' || typeof e.task_type !== 'string' ||
      typeof e.service !== 'string' || !isObject(e.service_settings) || !isObject(e.task_settings)
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
