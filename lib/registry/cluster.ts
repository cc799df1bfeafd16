import { ErrorType, registryUnavailable, toInferenceError, type InferenceError } from '../errors.js';
import type { EndpointRegistry, PutOptions, StoredEndpoint } from './types.js';

/** The IPC channel a worker process talks to its primary through (node:cluster's `process.send`). */
export interface IpcChannel {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** One worker as the primary sees it. */
export interface IpcWorker {
  send(message: unknown): boolean;
  isConnected(): boolean;
}

type Request =
  | { t: 'is:reg'; id: number; op: 'put'; endpoint: StoredEndpoint; options: PutOptions }
  | { t: 'is:reg'; id: number; op: 'delete'; inferenceId: string }
  | { t: 'is:reg'; id: number; op: 'list' };
type Reply =
  | { t: 'is:reg:res'; id: number; ok: true; value: unknown }
  | { t: 'is:reg:res'; id: number; ok: false; error: { type: string; reason: string; status: number } };
type Change =
  | { t: 'is:reg:change'; op: 'put'; endpoint: StoredEndpoint }
  | { t: 'is:reg:change'; op: 'delete'; inferenceId: string };

function isMessage(m: unknown, t: string): boolean {
  return typeof m === 'object' && m !== null && (m as { t?: unknown }).t === t;
}

/**
 * The primary's side: it owns the real registry (memory or file) and applies every change
 * its workers ask for, one process deciding, so the rules (one winner per id, the endpoint
 * limit) hold for all workers. Each applied change is sent to every worker before the
 * answer to the one that asked, so the asker reads its own write.
 */
export class RegistryHost {
  constructor(
    private readonly registry: EndpointRegistry,
    private readonly workers: () => Iterable<IpcWorker>,
  ) {}

  /** Handles one message from a worker; returns false when it is not a registry request. */
  handle(worker: IpcWorker, message: unknown): boolean {
    if (!isMessage(message, 'is:reg')) return false;
    const req = message as Request;
    this.run(req).then(
      (value) => safeSend(worker, { t: 'is:reg:res', id: req.id, ok: true, value } satisfies Reply),
      (err: unknown) => {
        const e = err as Partial<InferenceError> | null;
        const error =
          typeof e?.type === 'string' && typeof e.reason === 'string' && typeof e.status === 'number'
            ? { type: e.type, reason: e.reason, status: e.status }
            : { type: ErrorType.illegalState, reason: 'The endpoint registry failed', status: 500 };
        safeSend(worker, { t: 'is:reg:res', id: req.id, ok: false, error } satisfies Reply);
      },
    );
    return true;
  }

  private async run(req: Request): Promise<unknown> {
    switch (req.op) {
      case 'list':
        return this.registry.list();
      case 'put': {
        const stored = await this.registry.put(req.endpoint, { ...req.options, local: false });
        if (stored) this.broadcast({ t: 'is:reg:change', op: 'put', endpoint: req.endpoint });
        return stored;
      }
      case 'delete': {
        const deleted = await this.registry.delete(req.inferenceId);
        if (deleted) this.broadcast({ t: 'is:reg:change', op: 'delete', inferenceId: req.inferenceId });
        return deleted;
      }
    }
  }

  private broadcast(change: Change): void {
    for (const w of this.workers()) if (w.isConnected()) safeSend(w, change);
  }
}

function safeSend(w: IpcWorker | IpcChannel, message: unknown): void {
  try {
    w.send(message);
  } catch {
    // the worker is gone; it gets a fresh copy when it is restarted
  }
}

/**
 * A worker's registry: a copy of the primary's, kept current by the changes the primary
 * sends; reads never leave the process, changes go to the primary (see RegistryHost).
 */
export class WorkerRegistry implements EndpointRegistry {
  private readonly cache = new Map<string, StoredEndpoint>();
  private readonly local = new Map<string, StoredEndpoint>();
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private readonly listener: (m: unknown) => void;

  private constructor(private readonly channel: IpcChannel) {
    this.listener = (m) => this.onMessage(m);
    channel.on('message', this.listener);
  }

  /** Connects to the primary and loads its endpoints. */
  static async connect(channel: IpcChannel): Promise<WorkerRegistry> {
    const registry = new WorkerRegistry(channel);
    const all = (await registry.ask({ op: 'list' })) as StoredEndpoint[];
    for (const e of all) registry.cache.set(e.inference_id, e);
    return registry;
  }

  get size(): number {
    let n = this.cache.size;
    for (const id of this.local.keys()) if (!this.cache.has(id)) n++;
    return n;
  }

  async get(inferenceId: string): Promise<StoredEndpoint | undefined> {
    return this.local.get(inferenceId) ?? this.cache.get(inferenceId);
  }

  async list(): Promise<StoredEndpoint[]> {
    const all = new Map(this.cache);
    for (const [id, e] of this.local) all.set(id, e);
    return [...all.values()].sort((a, b) => (a.inference_id < b.inference_id ? -1 : 1));
  }

  async put(endpoint: StoredEndpoint, options: PutOptions = {}): Promise<boolean> {
    if (options.local) {
      this.local.set(endpoint.inference_id, endpoint);
      return true;
    }
    if (this.local.has(endpoint.inference_id) && !options.overwrite) return false;
    return (await this.ask({ op: 'put', endpoint, options })) as boolean;
  }

  async delete(inferenceId: string): Promise<boolean> {
    if (this.local.delete(inferenceId)) return true;
    return (await this.ask({ op: 'delete', inferenceId })) as boolean;
  }

  /** Stops listening (pending changes fail). */
  close(): void {
    this.channel.off('message', this.listener);
    for (const p of this.pending.values()) p.reject(registryUnavailable('the primary process is gone'));
    this.pending.clear();
  }

  private ask(
    request:
      | { op: 'list' }
      | { op: 'put'; endpoint: StoredEndpoint; options: PutOptions }
      | { op: 'delete'; inferenceId: string },
  ): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      let sent: boolean;
      try {
        sent = this.channel.send({ t: 'is:reg', id, ...request });
      } catch {
        sent = false;
      }
      if (!sent) {
        this.pending.delete(id);
        reject(registryUnavailable('the primary process cannot be reached'));
      }
    });
  }

  private onMessage(m: unknown): void {
    if (isMessage(m, 'is:reg:change')) {
      const c = m as Change;
      if (c.op === 'put') this.cache.set(c.endpoint.inference_id, c.endpoint);
      else this.cache.delete(c.inferenceId);
      return;
    }
    if (!isMessage(m, 'is:reg:res')) return;
    const r = m as Reply;
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(toInferenceError(r.error));
  }
}
