import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { secretsKeyError } from '../errors.js';
import { isSecretSetting, type StoredEndpoint } from './types.js';

/** How a secret setting is stored once sealed: `{"$sealed":"v1.<key id>.<base64 of iv | tag | ciphertext>"}`. */
export interface SealedValue {
  $sealed: string;
}

const PREFIX = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What the key check seals, so that a wrong key is caught even in an empty registry. */
const CHECK_TEXT = 'inference-stream key check';

/** Decodes one base64 key of exactly 32 bytes; `name` is where it came from, for the error. */
export function parseKey(text: string, name: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw secretsKeyError(
      `${name} must be 32 random bytes in base64 (for example the output of \`openssl rand -base64 32\`), got ${key.length} bytes`,
    );
  }
  return key;
}

/**
 * Seals and opens the secret settings of endpoints with AES-256-GCM. The current key seals;
 * previous keys (key rotation) only open. The inference id and setting name are bound to
 * every ciphertext (additional data), so a sealed value moved to another endpoint or
 * setting does not open.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly keyId: string;

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.keyId = keyIdOf(current);
    this.keys.set(this.keyId, current);
    for (const k of previous) if (!this.keys.has(keyIdOf(k))) this.keys.set(keyIdOf(k), k);
  }

  /**
   * The box configured by `INFERENCE_STREAM_SECRETS_KEY` (and the comma-separated
   * `INFERENCE_STREAM_SECRETS_KEY_PREVIOUS` during a rotation), or null when no key is set.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): SecretBox | null {
    const current = env.INFERENCE_STREAM_SECRETS_KEY;
    if (current === undefined || current.trim() === '') {
      if (env.INFERENCE_STREAM_SECRETS_KEY_PREVIOUS)
        throw secretsKeyError('INFERENCE_STREAM_SECRETS_KEY_PREVIOUS is set without INFERENCE_STREAM_SECRETS_KEY');
      return null;
    }
    const previous = (env.INFERENCE_STREAM_SECRETS_KEY_PREVIOUS ?? '')
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => parseKey(s, 'INFERENCE_STREAM_SECRETS_KEY_PREVIOUS'));
    return new SecretBox(parseKey(current, 'INFERENCE_STREAM_SECRETS_KEY'), previous);
  }

  seal(value: unknown, context: string): SealedValue {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.keyId)!, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return { $sealed: `${PREFIX}${this.keyId}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}` };
  }

  /** Opens a sealed value; throws a clear error (never the value) when no key opens it. */
  open(sealed: SealedValue, context: string): unknown {
    const [version, keyId, data] = sealed.$sealed.split('.');
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (`${version}.` !== PREFIX || data === undefined || key === undefined) {
      throw secretsKeyError(
        `Cannot decrypt the secrets of [${context}]: they were sealed with key id [${keyId ?? '?'}], and the configured keys are [${[...this.keys.keys()].join(', ')}]. ` +
          'Set INFERENCE_STREAM_SECRETS_KEY to the key they were written with (or list it in INFERENCE_STREAM_SECRETS_KEY_PREVIOUS while rotating)',
      );
    }
    const raw = Buffer.from(data, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
      return JSON.parse(text);
    } catch {
      throw secretsKeyError(
        `Cannot decrypt the secrets of [${context}]: the stored value does not authenticate with key [${keyId}] (tampered with, or written for another endpoint)`,
      );
    }
  }

  /** Whether the value was sealed with a key other than the current one (it should be sealed again). */
  isStale(sealed: SealedValue): boolean {
    return sealed.$sealed.split('.')[1] !== this.keyId;
  }

  /** A sealed constant stored beside the endpoints: opening it at start tells a wrong key from the right one. */
  keyCheck(): SealedValue {
    return this.seal(CHECK_TEXT, 'key-check');
  }

  /** Throws a clear error when `check` was written with a key this box does not hold. */
  verify(check: SealedValue, where: string): void {
    let ok: boolean;
    try {
      ok = this.open(check, 'key-check') === CHECK_TEXT;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw secretsKeyError(
        `INFERENCE_STREAM_SECRETS_KEY is not the key the secrets in ${where} were encrypted with (key id [${check.$sealed.split('.')[1] ?? '?'}], configured [${[...this.keys.keys()].join(', ')}]); ` +
          'start with the right key, or list the old one in INFERENCE_STREAM_SECRETS_KEY_PREVIOUS to rotate',
      );
    }
  }
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Whether a stored setting value is a sealed one (`{"$sealed": …}` and nothing else). */
export function isSealed(v: unknown): v is SealedValue {
  return (
    typeof v === 'object' && v !== null && typeof (v as SealedValue).$sealed === 'string' && Object.keys(v).length === 1
  );
}

/** The endpoint with every secret setting sealed (a copy); the endpoint itself when there is no box. */
export function sealEndpoint(box: SecretBox | null, endpoint: StoredEndpoint): StoredEndpoint {
  if (box === null) return endpoint;
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(endpoint.service_settings)) {
    settings[k] = isSecretSetting(k) && v !== undefined ? box.seal(v, `${endpoint.inference_id}/${k}`) : v;
  }
  return { ...endpoint, service_settings: settings };
}

/**
 * The endpoint with every sealed setting opened. `stale` is set when a value was not sealed
 * with the current key (plain, or an older key): the caller writes it again, sealed anew.
 * Throws a clear error when sealed values are found and no key is configured.
 */
export function openEndpoint(
  box: SecretBox | null,
  endpoint: StoredEndpoint,
  where: string,
): { endpoint: StoredEndpoint; stale: boolean } {
  let stale = false;
  let settings: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(endpoint.service_settings)) {
    if (!isSecretSetting(k)) continue;
    if (!isSealed(v)) {
      if (box !== null && v !== undefined) stale = true;
      continue;
    }
    if (box === null) {
      throw secretsKeyError(
        `The secrets in ${where} are encrypted; set INFERENCE_STREAM_SECRETS_KEY to the key they were written with`,
      );
    }
    settings ??= { ...endpoint.service_settings };
    settings[k] = box.open(v, `${endpoint.inference_id}/${k}`);
    if (box.isStale(v)) stale = true;
  }
  return { endpoint: settings === null ? endpoint : { ...endpoint, service_settings: settings }, stale };
}
