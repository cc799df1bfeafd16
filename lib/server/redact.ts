import type { InferenceError } from '../errors.js';
import { isSecretSetting, type StoredEndpoint } from '../registry/types.js';

const SHORTEST_SECRET = 6; // shorter values would redact ordinary words

/**
 * The credential values of an endpoint: every secret setting, and for a service account
 * JSON also its private key and key id, since a provider may quote either back.
 */
export function secretsOf(endpoint: StoredEndpoint): string[] {
  const found: string[] = [];
  for (const [key, value] of Object.entries(endpoint.service_settings)) {
    if (!isSecretSetting(key) || typeof value !== 'string') continue;
    found.push(value);
    if (key === 'service_account_json') {
      try {
        const account = JSON.parse(value) as { private_key?: unknown; private_key_id?: unknown };
        if (typeof account.private_key === 'string') {
          found.push(account.private_key, ...account.private_key.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));
        }
        if (typeof account.private_key_id === 'string') found.push(account.private_key_id);
      } catch {
        // not JSON: the whole value is already listed
      }
    }
  }
  // longest first, so a secret containing another is replaced whole; JSON-escaped forms too
  const all = new Set<string>();
  for (const s of found) {
    if (s.length < SHORTEST_SECRET) continue;
    all.add(s);
    all.add(JSON.stringify(s).slice(1, -1));
    all.add(JSON.stringify(JSON.stringify(s).slice(1, -1)).slice(1, -1));
  }
  return [...all].sort((a, b) => b.length - a.length);
}

/** The text with every secret replaced by `[REDACTED]`. Only used on error paths. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
  return out;
}

/** The error with secrets removed from its reason (a new error, or the same one when clean). */
export function redactError(err: InferenceError, secrets: readonly string[]): InferenceError {
  return err.withReason(redact(err.reason, secrets));
}
