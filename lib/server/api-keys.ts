import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { apiKeyConfigError as configError } from '../errors.js';

/** Elasticsearch's inference cluster privileges; `manage_inference` includes `monitor_inference`, as in Elasticsearch. */
export type Privilege = 'monitor_inference' | 'manage_inference';
/** Every privilege a key may hold. */
export const PRIVILEGES: readonly Privilege[] = ['monitor_inference', 'manage_inference'];

/** One key as configured. Give `key_sha256` (hex of SHA-256 of the key) to keep the key itself out of the file. */
export interface ApiKeyConfig {
  id: string;
  /** Shown in 403 messages as the key's user; default: the id. */
  name?: string;
  key?: string;
  key_sha256?: string;
  privileges: Privilege[];
}

/** Who a request authenticated as. Never holds the key. */
export interface ApiKeyIdentity {
  id: string;
  name: string;
  privileges: ReadonlySet<Privilege>;
}

export type Authentication = { result: 'missing' } | { result: 'invalid' } | { result: 'ok'; identity: ApiKeyIdentity };

/** The environment variable holding one key with both privileges. */
export const API_KEY_ENV = 'INFERENCE_STREAM_API_KEY';
const MIN_KEY_LENGTH = 16;
/** Longer credentials are not hashed, just refused (headers are bounded anyway). */
const MAX_TOKEN_LENGTH = 4096;

interface StoredKey {
  identity: ApiKeyIdentity;
  hash: Buffer;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The configured API keys, held only as SHA-256 hashes and compared in constant time.
 * Accepts `Authorization: ApiKey <key>` and `Bearer <key>`, and Elasticsearch's own
 * ApiKey credential `base64(<id>:<key>)` (what the official clients send for `{id, api_key}`).
 */
export class ApiKeys {
  private readonly keys: StoredKey[];
  private readonly byId: Map<string, StoredKey>;

  private constructor(keys: StoredKey[]) {
    this.keys = keys;
    this.byId = new Map(keys.map((k) => [k.identity.id, k]));
  }

  get size(): number {
    return this.keys.length;
  }

  /** From `{"api_keys":[{id, key | key_sha256, privileges, name?}]}`; throws a clear error naming what is wrong (never the key). */
  static fromConfig(config: unknown, source = 'configuration'): ApiKeys {
    const list = (config as { api_keys?: unknown } | null)?.api_keys;
    if (!Array.isArray(list))
      throw configError(source, 'expected {"api_keys":[{"id":…,"key_sha256":…,"privileges":[…]}]}');
    const keys: StoredKey[] = [];
    const seen = new Set<string>();
    const hashes = new Set<string>();
    list.forEach((entry: unknown, i) => {
      const e = entry as Partial<Record<keyof ApiKeyConfig, unknown>> | null;
      const where = `api_keys[${i}]`;
      if (!e || typeof e !== 'object') throw configError(source, `${where} is not an object`);
      if (typeof e.id !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(e.id))
        throw configError(source, `${where}.id must be 1-64 letters, digits, '_', '.' or '-'`);
      if (seen.has(e.id)) throw configError(source, `duplicate id [${e.id}]`);
      seen.add(e.id);
      let hash: Buffer;
      if (typeof e.key_sha256 === 'string' && e.key === undefined) {
        if (!/^[0-9a-fA-F]{64}$/.test(e.key_sha256))
          throw configError(source, `${where}.key_sha256 must be 64 hex digits`);
        hash = Buffer.from(e.key_sha256, 'hex');
      } else if (typeof e.key === 'string' && e.key_sha256 === undefined) {
        if (e.key.length < MIN_KEY_LENGTH)
          throw configError(source, `${where}.key is shorter than ${MIN_KEY_LENGTH} characters`);
        hash = sha256(e.key);
      } else {
        throw configError(source, `${where} needs exactly one of key or key_sha256`);
      }
      if (hashes.has(hash.toString('hex'))) throw configError(source, `${where} repeats the key of another entry`);
      hashes.add(hash.toString('hex'));
      if (
        !Array.isArray(e.privileges) ||
        e.privileges.length === 0 ||
        !e.privileges.every((p) => PRIVILEGES.includes(p as Privilege))
      ) {
        throw configError(source, `${where}.privileges must list one or more of [${PRIVILEGES.join(', ')}]`);
      }
      const privileges = new Set(e.privileges as Privilege[]);
      if (privileges.has('manage_inference')) privileges.add('monitor_inference');
      const name = typeof e.name === 'string' && e.name.length > 0 ? e.name : e.id;
      keys.push({ identity: { id: e.id, name, privileges }, hash });
    });
    return new ApiKeys(keys);
  }

  /**
   * The keys an option gives: an ApiKeys, or the same entries the key file holds
   * (`[{ id, key | key_sha256, privileges }]`). Null or absent: no access control.
   */
  static from(keys: ApiKeys | readonly ApiKeyConfig[] | null | undefined, source = 'apiKeys option'): ApiKeys | null {
    if (keys === null || keys === undefined) return null;
    if (keys instanceof ApiKeys) return keys.size > 0 ? keys : null;
    if (!Array.isArray(keys)) throw configError(source, 'expected an array of {id, key | key_sha256, privileges}');
    return keys.length === 0 ? null : ApiKeys.fromConfig({ api_keys: keys }, source);
  }

  /** One key with both privileges, as `INFERENCE_STREAM_API_KEY` gives it. */
  static fromSingleKey(key: string, source = API_KEY_ENV): ApiKeys {
    return ApiKeys.fromConfig(
      { api_keys: [{ id: 'default', key, privileges: ['manage_inference', 'monitor_inference'] }] },
      source,
    );
  }

  /**
   * The keys from a JSON file and/or the environment variable; null when neither is set.
   * A file that cannot be read or parsed stops the start with an error naming the file.
   */
  static async load(options: {
    file?: string | undefined;
    env?: NodeJS.ProcessEnv;
    onWarning?: (message: string) => void;
  }): Promise<ApiKeys | null> {
    const env = options.env ?? process.env;
    const single = env[API_KEY_ENV];
    const entries: unknown[] = [];
    if (options.file) {
      let text: string;
      try {
        text = await readFile(options.file, 'utf8');
      } catch (err) {
        throw configError(options.file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      // the file holds keys (or their hashes): other users of the machine should not read it
      const mode = await stat(options.file).then(
        (st) => st.mode & 0o777,
        () => null,
      );
      if (mode !== null && (mode & 0o077) !== 0 && process.platform !== 'win32') {
        options.onWarning?.(
          `API key file [${options.file}] is readable by other users (mode 0${mode.toString(8)}); restrict it with chmod 600`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw configError(options.file, 'not valid JSON');
      }
      entries.push(...ApiKeys.fromConfig(parsed, options.file).keys.map(toEntry));
    }
    if (single !== undefined && single !== '') {
      const taken = new Set(entries.map((e) => (e as { id: string }).id));
      let id = 'default';
      for (let i = 2; taken.has(id); i++) id = `default-${i}`;
      entries.push(...ApiKeys.fromSingleKey(single).keys.map((k) => ({ ...toEntry(k), id })));
    }
    return entries.length === 0 ? null : ApiKeys.fromConfig({ api_keys: entries }, options.file ?? API_KEY_ENV);
  }

  /** Checks an `Authorization` header value. Every stored hash is compared, so timing says nothing about which key nearly matched. */
  authenticate(authorization: string | string[] | undefined): Authentication {
    const token = credentialOf(authorization);
    if (token === null) return { result: 'missing' };
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return { result: 'invalid' };
    const direct = sha256(token);
    const encoded = decodeIdAndKey(token);
    const encodedKey = encoded ? this.byId.get(encoded.id) : undefined;
    const encodedHash = encoded && encodedKey ? sha256(encoded.key) : null;
    let match: StoredKey | null = null;
    for (const k of this.keys) {
      const hit = timingSafeEqual(direct, k.hash);
      const encodedHit = encodedHash !== null && k === encodedKey && timingSafeEqual(encodedHash, k.hash);
      if ((hit || encodedHit) && match === null) match = k;
    }
    return match ? { result: 'ok', identity: match.identity } : { result: 'invalid' };
  }
}

/** A stored key back as a config entry (hash only), to merge sources. */
function toEntry(k: StoredKey): ApiKeyConfig {
  return {
    id: k.identity.id,
    name: k.identity.name,
    key_sha256: k.hash.toString('hex'),
    privileges: [...k.identity.privileges],
  };
}

/** The credential after `ApiKey ` or `Bearer ` (schemes are case-insensitive); null when there is none of those. */
export function credentialOf(authorization: string | string[] | undefined): string | null {
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  if (typeof value !== 'string') return null;
  const space = value.indexOf(' ');
  if (space === -1) return null;
  const scheme = value.slice(0, space).toLowerCase();
  if (scheme !== 'apikey' && scheme !== 'bearer') return null;
  return value.slice(space + 1).trim();
}

/** Elasticsearch's encoded API key: base64 of `id:key`. Null when the token is not that. */
function decodeIdAndKey(token: string): { id: string; key: string } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token) || token.length % 4 !== 0) return null;
  const text = Buffer.from(token, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return null;
  return { id: text.slice(0, colon), key: text.slice(colon + 1) };
}

/** SHA-256 hex of a key, for `key_sha256` in the key file. */
export function hashApiKey(key: string): string {
  return sha256(key).toString('hex');
}
