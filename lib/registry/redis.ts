import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import {
  InferenceError,
  packageMissing,
  registryOpenFailed,
  registryUnavailable,
  secretsKeyError,
  tooManyEndpoints,
} from '../errors.js';
import { isSealed, openEndpoint, sealEndpoint, SecretBox, type SealedValue } from './sealed.js';
import type { EndpointRegistry, PutOptions, StoredEndpoint } from './types.js';

/** What a shared registry tells its owner (for logs): all messages are free of credentials. */
export type RegistryEvent =
  | { event: 'registry_connected'; store: string }
  | { event: 'registry_stale'; store: string; reason: string }
  | { event: 'registry_reloaded'; store: string; endpoints: number; revision: number }
  | { event: 'registry_resealed'; store: string; endpoints: number }
  | { event: 'registry_error'; store: string; reason: string };

/** How `RedisRegistry.open` connects and what it tells. */
export interface RedisRegistryOptions {
  /** Key prefix, so that several fleets can share one Redis database. Default `inference-stream`. */
  prefix?: string;
  /** Seals secret settings at rest (AES-256-GCM). Default: from `INFERENCE_STREAM_SECRETS_KEY`, none when unset. */
  secrets?: SecretBox | null;
  /** How long `open` waits for the first connection. Default 5 s. */
  connectTimeoutMs?: number;
  /** Connection events, for logs. */
  onEvent?: (event: RegistryEvent) => void;
}

// A change is one script: check, write, bump the revision and publish, atomically, so that
// every instance applies changes in the order Redis made them.
// KEYS: hash, revision. ARGV: id, value, mode (create|overwrite|replace), max endpoints (-1: none), channel.
const PUT_SCRIPT = `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if ARGV[3] == 'create' and exists then return -1 end
if ARGV[3] == 'replace' and not exists then return -1 end
local max = tonumber(ARGV[4])
if not exists and max >= 0 and redis.call('HLEN', KEYS[1]) >= max then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[5], rev .. '\\nput\\n' .. ARGV[1] .. '\\n' .. ARGV[2])
return rev
`;
// KEYS: hash, revision. ARGV: id, channel.
const DELETE_SCRIPT = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], rev .. '\\ndel\\n' .. ARGV[1])
return rev
`;
// Sealing anew during a key rotation: only when nobody changed the value in between.
// KEYS: hash, revision. ARGV: id, expected value, new value, channel.
const RESEAL_SCRIPT = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], rev .. '\\nput\\n' .. ARGV[1] .. '\\n' .. ARGV[3])
return rev
`;

interface Scripted {
  isPut(
    hash: string,
    rev: string,
    id: string,
    value: string,
    mode: string,
    max: string,
    channel: string,
  ): Promise<number>;
  isDelete(hash: string, rev: string, id: string, channel: string): Promise<number>;
  isReseal(hash: string, rev: string, id: string, expected: string, value: string, channel: string): Promise<number>;
}

interface Entry {
  /** Null: deleted at `rev` (kept so that an older message cannot bring it back). */
  endpoint: StoredEndpoint | null;
  rev: number;
}

/** `redis://user:***@host:port/db`: the URL as logs and errors may show it. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** Whether `--endpoints` names a Redis registry (`redis://` or `rediss://`) rather than a file. */
export function isRedisUrl(text: string): boolean {
  return /^rediss?:\/\//i.test(text);
}

/**
 * Endpoints shared by a fleet through Redis. Every instance keeps the whole registry in
 * memory and reads only from there (no Redis round trip per inference request); every change
 * is one Lua script (check, write, revision, publish), so the rules hold across the fleet:
 * of two concurrent PUTs of one id exactly one wins, the endpoint limit counts the fleet's
 * endpoints, and a change never lands on a deleted endpoint. Changes reach every instance by
 * pub/sub; after a lost connection the cache is rebuilt from Redis. While Redis is away,
 * reads go on from the cache (`stale` is true) and changes fail with 503.
 */
export class RedisRegistry implements EndpointRegistry {
  /** The Redis URL without its password. */
  readonly store: string;
  private readonly cache = new Map<string, Entry>();
  /** This process's own endpoints (`put(…, { local: true })`, the demo endpoint). */
  private readonly local = new Map<string, StoredEndpoint>();
  private readonly hash: string;
  private readonly revKey: string;
  private readonly keyCheckKey: string;
  private readonly channel: string;
  private staleReason: string | null = 'not loaded yet';
  private staleSinceMs: number | null = Date.now();
  private reloading: Promise<void> | null = null;
  private closed = false;
  private count = 0;
  /** Highest revision seen: a snapshot below it means Redis lost data (restarted without persistence, flushed). */
  private maxRev = 0;

  private constructor(
    private readonly cmd: RedisClient & Scripted,
    private readonly sub: RedisClient,
    private readonly box: SecretBox | null,
    prefix: string,
    store: string,
    private readonly onEvent: (event: RegistryEvent) => void,
  ) {
    this.store = store;
    this.hash = `${prefix}:endpoints`;
    this.revKey = `${prefix}:revision`;
    this.keyCheckKey = `${prefix}:key_check`;
    this.channel = `${prefix}:changes`;
  }

  /**
   * Connects (ioredis is loaded only now), checks the secrets key, loads every endpoint and
   * subscribes to changes. Fails with a clear error, free of the password, when Redis cannot
   * be reached within `connectTimeoutMs`.
   */
  static async open(url: string, options: RedisRegistryOptions = {}): Promise<RedisRegistry> {
    const store = redactRedisUrl(url);
    const box = options.secrets === undefined ? SecretBox.fromEnv() : options.secrets;
    let Redis: typeof import('ioredis').Redis;
    try {
      ({ Redis } = await import('ioredis'));
    } catch {
      throw packageMissing('ioredis', 'A redis:// endpoint registry');
    }
    const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      // a change must fail at once while Redis is away (503), not wait in a queue
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: Math.min(connectTimeoutMs, 10_000),
      commandTimeout: 5000,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      connectionName: 'inference-stream',
    };
    // ioredis turns TLS on only for a lower-case `rediss://`: `REDISS://` must not connect in plain text
    const target = url.replace(/^rediss?:/i, (scheme) => scheme.toLowerCase());
    const cmd = new Redis(target, redisOptions) as RedisClient & Scripted;
    const sub = new Redis(target, {
      ...redisOptions,
      commandTimeout: undefined,
      connectionName: 'inference-stream-sub',
    });
    const onEvent = options.onEvent ?? (() => {});
    const registry = new RedisRegistry(cmd, sub, box, options.prefix ?? 'inference-stream', store, onEvent);
    // ioredis reports every failed connection attempt as 'error': never an unhandled one
    let lastError = '';
    const onError = (err: Error) => {
      const reason = describeRedisError(err);
      if (reason !== lastError) {
        lastError = reason;
        if (!registry.closed) registry.onEvent({ event: 'registry_error', store, reason });
      }
    };
    cmd.on('error', onError);
    sub.on('error', onError);
    cmd.defineCommand('isPut', { numberOfKeys: 2, lua: PUT_SCRIPT });
    cmd.defineCommand('isDelete', { numberOfKeys: 2, lua: DELETE_SCRIPT });
    cmd.defineCommand('isReseal', { numberOfKeys: 2, lua: RESEAL_SCRIPT });
    try {
      await withTimeout(
        Promise.all([cmd.connect(), sub.connect()]),
        connectTimeoutMs,
        `no connection to ${store} within ${connectTimeoutMs} ms`,
      );
      await registry.checkKey();
      sub.on('message', (channel: string, message: string) => {
        if (channel === registry.channel) registry.applyMessage(message);
      });
      await sub.subscribe(registry.channel);
      await registry.reload(true);
      await registry.reseal();
    } catch (err) {
      registry.closed = true;
      cmd.disconnect();
      sub.disconnect();
      if (err instanceof InferenceError) throw err;
      // "no connection" says little: the connection attempt's own failure (refused, a certificate) says why
      const reason = describeRedisError(err);
      throw registryOpenFailed(
        store,
        lastError !== '' && lastError !== reason && !reason.includes(lastError) ? `${reason} (${lastError})` : reason,
      );
    }
    lastError = '';
    onEvent({ event: 'registry_connected', store });
    const lost = (reason: string) => () => registry.markStale(reason);
    cmd.on('close', lost('connection closed'));
    sub.on('close', lost('subscription closed'));
    // ioredis resubscribes on reconnect; whatever was published meanwhile is read again from Redis
    const back = () => {
      if (cmd.status === 'ready' && sub.status === 'ready' && registry.staleReason !== null)
        registry.reload(false).catch(() => undefined);
    };
    cmd.on('ready', back);
    sub.on('ready', back);
    return registry;
  }

  /** True while the cache may miss changes (Redis unreachable, or not reloaded since). */
  get stale(): boolean {
    return this.staleReason !== null;
  }

  /** Milliseconds the cache has been stale, 0 when it is current. */
  staleForMs(now = Date.now()): number {
    return this.staleSinceMs === null ? 0 : now - this.staleSinceMs;
  }

  /** Endpoints known to this instance (the shared ones and its own). */
  get size(): number {
    return this.count + this.local.size;
  }

  async get(inferenceId: string): Promise<StoredEndpoint | undefined> {
    return this.local.get(inferenceId) ?? this.cache.get(inferenceId)?.endpoint ?? undefined;
  }

  async list(): Promise<StoredEndpoint[]> {
    const all = new Map<string, StoredEndpoint>();
    for (const [id, e] of this.cache) if (e.endpoint) all.set(id, e.endpoint);
    for (const [id, e] of this.local) all.set(id, e);
    return [...all.values()].sort((a, b) => (a.inference_id < b.inference_id ? -1 : 1));
  }

  async put(endpoint: StoredEndpoint, options: PutOptions = {}): Promise<boolean> {
    const id = endpoint.inference_id;
    if (options.local) {
      this.local.set(id, endpoint);
      return true;
    }
    if (this.local.has(id) && !options.overwrite) return false;
    const mode = options.replaceOnly ? 'replace' : options.overwrite ? 'overwrite' : 'create';
    const value = JSON.stringify(sealEndpoint(this.box, endpoint));
    let rev: number;
    try {
      rev = await this.cmd.isPut(
        this.hash,
        this.revKey,
        id,
        value,
        mode,
        String(options.maxEndpoints ?? -1),
        this.channel,
      );
    } catch (err) {
      throw this.unavailable(err);
    }
    if (rev === -1) return false;
    if (rev === -2) throw tooManyEndpoints(options.maxEndpoints!);
    // read your own write at once; the published message (same revision) changes nothing then
    this.apply(id, endpoint, rev);
    return true;
  }

  async delete(inferenceId: string): Promise<boolean> {
    if (this.local.delete(inferenceId)) return true;
    let rev: number;
    try {
      rev = await this.cmd.isDelete(this.hash, this.revKey, inferenceId, this.channel);
    } catch (err) {
      throw this.unavailable(err);
    }
    if (rev === 0) {
      // already gone in Redis: make sure this cache agrees
      const e = this.cache.get(inferenceId);
      if (e?.endpoint) this.apply(inferenceId, null, e.rev);
      return false;
    }
    this.apply(inferenceId, null, rev);
    return true;
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.cmd.quit(), this.sub.quit()]);
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  private unavailable(err: unknown): InferenceError {
    if (this.cmd.status !== 'ready') this.markStale('connection lost');
    return registryUnavailable(`${this.store}: ${describeRedisError(err)}`);
  }

  private markStale(reason: string): void {
    if (this.closed) return;
    if (this.staleReason === null) {
      this.staleReason = reason;
      this.staleSinceMs = Date.now();
      this.onEvent({ event: 'registry_stale', store: this.store, reason });
    }
  }

  /** Applies one change if it is newer than what this cache holds for the id. */
  private apply(id: string, endpoint: StoredEndpoint | null, rev: number): void {
    const current = this.cache.get(id);
    if (current && current.rev > rev) return;
    if (rev > this.maxRev) this.maxRev = rev;
    if (current?.endpoint && !endpoint) this.count--;
    if (!current?.endpoint && endpoint) this.count++;
    this.cache.set(id, { endpoint, rev });
  }

  private applyMessage(message: string): void {
    const a = message.indexOf('\n');
    const b = message.indexOf('\n', a + 1);
    const rev = Number(message.slice(0, a));
    const op = message.slice(a + 1, b);
    if (op === 'del') {
      this.apply(message.slice(b + 1), null, rev);
      return;
    }
    const c = message.indexOf('\n', b + 1);
    const id = message.slice(b + 1, c);
    try {
      this.apply(id, this.decode(message.slice(c + 1)), rev);
    } catch (err) {
      this.onEvent({
        event: 'registry_error',
        store: this.store,
        reason: `endpoint [${id}] could not be read: ${(err as Error).message}`,
      });
    }
  }

  private decode(value: string): StoredEndpoint {
    return openEndpoint(this.box, JSON.parse(value) as StoredEndpoint, `the endpoint registry ${this.store}`).endpoint;
  }

  /**
   * Rebuilds the cache from one consistent snapshot (endpoints and revision read in one
   * transaction). Entries changed after the snapshot (by a message or an own write) are kept.
   */
  private reload(strict: boolean): Promise<void> {
    this.reloading ??= (async () => {
      try {
        const result = await this.cmd.multi().hgetall(this.hash).get(this.revKey).exec();
        if (!result) throw new Error('transaction aborted');
        const [[e1, all], [e2, revText]] = result as [
          [Error | null, Record<string, string>],
          [Error | null, string | null],
        ];
        if (e1 || e2) throw e1 ?? e2;
        const snapshotRev = Number(revText ?? 0);
        const next = new Map<string, Entry>();
        for (const [id, raw] of Object.entries(all)) {
          try {
            next.set(id, { endpoint: this.decode(raw), rev: snapshotRev });
          } catch (err) {
            if (strict) throw err;
            this.onEvent({
              event: 'registry_error',
              store: this.store,
              reason: `endpoint [${id}] could not be read: ${(err as Error).message}`,
            });
          }
        }
        if (snapshotRev < this.maxRev) {
          // the revision went back: Redis lost what it had; its content is the truth now
          this.onEvent({
            event: 'registry_error',
            store: this.store,
            reason: `revision went back from ${this.maxRev} to ${snapshotRev}: Redis lost data (no persistence?); the cache follows Redis`,
          });
        } else {
          for (const [id, e] of this.cache) if (e.rev > snapshotRev) next.set(id, e);
        }
        this.maxRev = snapshotRev;
        this.cache.clear();
        let count = 0;
        for (const [id, e] of next) {
          this.cache.set(id, e);
          if (e.endpoint) count++;
        }
        this.count = count;
        this.staleReason = null;
        this.staleSinceMs = null;
        this.onEvent({ event: 'registry_reloaded', store: this.store, endpoints: count, revision: snapshotRev });
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  /** The key check: a wrong INFERENCE_STREAM_SECRETS_KEY stops the start, before anything is read or written. */
  private async checkKey(): Promise<void> {
    const where = `the endpoint registry ${this.store}`;
    const stored = await this.cmd.get(this.keyCheckKey);
    if (stored === null) {
      if (this.box) await this.cmd.set(this.keyCheckKey, JSON.stringify(this.box.keyCheck()), 'NX');
      return;
    }
    let check: SealedValue;
    try {
      check = JSON.parse(stored) as SealedValue;
    } catch {
      check = { $sealed: '' };
    }
    if (!isSealed(check)) throw registryOpenFailed(this.store, 'its key check is unreadable');
    if (this.box === null)
      throw secretsKeyError(
        `The secrets in ${where} are encrypted; set INFERENCE_STREAM_SECRETS_KEY to the key they were written with`,
      );
    this.box.verify(check, where);
  }

  /** Under a new key (rotation) or a first key: every value sealed otherwise is sealed again. */
  private async reseal(): Promise<void> {
    const box = this.box;
    if (box === null) return;
    const all = await this.cmd.hgetall(this.hash);
    let resealed = 0;
    for (const [id, raw] of Object.entries(all)) {
      const opened = openEndpoint(box, JSON.parse(raw) as StoredEndpoint, `the endpoint registry ${this.store}`);
      if (!opened.stale) continue;
      const rev = await this.cmd.isReseal(
        this.hash,
        this.revKey,
        id,
        raw,
        JSON.stringify(sealEndpoint(box, opened.endpoint)),
        this.channel,
      );
      if (rev > 0) resealed++;
    }
    const check = await this.cmd.get(this.keyCheckKey);
    if (check !== null && box.isStale(JSON.parse(check) as SealedValue))
      await this.cmd.set(this.keyCheckKey, JSON.stringify(box.keyCheck()));
    if (resealed > 0) this.onEvent({ event: 'registry_resealed', store: this.store, endpoints: resealed });
  }
}

/** A Redis failure in words that never carry the URL or its password. */
function describeRedisError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message)) return 'authentication failed';
  // a TLS failure: Node's code alone (SELF_SIGNED_CERT_IN_CHAIN) is terse, its message names the certificate problem
  if (/CERT|^ERR_TLS|^ERR_SSL|UNABLE_TO|HOSTNAME/.test(code)) return `${code}: ${message.slice(0, 200)}`;
  if (code) return code;
  if (/enableOfflineQueue|Connection is closed|max retries/i.test(message)) return 'no connection to Redis';
  // ioredis's own messages ("Connection is closed.", "Stream isn't writeable…") name no credentials;
  // anything that looks like a URL is cut out all the same
  return message.replace(/rediss?:\/\/\S*/gi, '[url]').slice(0, 200);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(what)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
