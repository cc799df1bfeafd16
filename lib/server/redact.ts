import type { InferenceError } from '../errors.js';
import { isSecretSetting, type StoredEndpoint } from '../registry/types.js';

/**
 * A run of at least this many characters of a secret is redacted wherever it shows, so
 * a secret cut by a length limit (an excerpt, a provider message) leaks no prefix either.
 */
const FRAGMENT = 8;

/** Settings whose value is a URL: credentials inside it (`user:pass@`) are secrets too. */
export const URL_SETTINGS = ['url', 'streaming_url', 'target'] as const;

/** The `user:pass` of a URL, decoded and raw, and the Basic credential built from it; empty when none. */
export function urlCredentials(value: unknown): string[] {
  if (typeof value !== 'string' || !value.includes('@')) return [];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [];
  }
  if (url.username === '' && url.password === '') return [];
  const found = [url.username, url.password, `${url.username}:${url.password}`];
  for (const part of [url.username, url.password]) {
    try {
      found.push(decodeURIComponent(part));
    } catch {
      // not percent-encoded text: the raw form is listed
    }
  }
  found.push(Buffer.from(`${safeDecode(url.username)}:${safeDecode(url.password)}`).toString('base64'));
  return found.filter((s) => s.length > 0);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The credential values of an endpoint: every secret setting, credentials inside its URLs,
 * and for a service account JSON also its private key and key id, since a provider may
 * quote either back.
 */
export function secretsOf(endpoint: StoredEndpoint): string[] {
  const found: string[] = [];
  for (const [key, value] of Object.entries(endpoint.service_settings)) {
    if ((URL_SETTINGS as readonly string[]).includes(key)) found.push(...urlCredentials(value));
    if (!isSecretSetting(key) || typeof value !== 'string') continue;
    found.push(value);
    if (key === 'service_account_json') {
      try {
        const account = JSON.parse(value) as { private_key?: unknown; private_key_id?: unknown };
        if (typeof account.private_key === 'string') {
          found.push(
            account.private_key,
            ...account.private_key.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')),
          );
        }
        if (typeof account.private_key_id === 'string') found.push(account.private_key_id);
      } catch {
        // not JSON: the whole value is already listed
      }
    }
  }
  return found;
}

/** Request headers that never carry a credential; every other header value of a provider request is treated as one. */
const PLAIN_HEADERS = new Set([
  'content-type',
  'accept',
  'content-length',
  'host',
  'user-agent',
  'anthropic-version',
  'x-amz-date',
  'x-amz-content-sha256',
  'x-amz-user-agent',
  'amz-sdk-invocation-id',
  'amz-sdk-request',
]);

/**
 * The credentials a provider request carries, whatever built them: bearer tokens (Vertex
 * AI OAuth, watsonx IAM), API-key headers, SigV4 signatures and access key ids, URL
 * userinfo and key query parameters.
 */
export function requestCredentials(request: { url: string; headers: Record<string, string> }): string[] {
  const found: string[] = [...urlCredentials(request.url)];
  for (const [name, value] of Object.entries(request.headers)) {
    if (PLAIN_HEADERS.has(name.toLowerCase()) || typeof value !== 'string' || value.length === 0) continue;
    found.push(value);
    const space = value.indexOf(' ');
    if (space > 0) found.push(value.slice(space + 1)); // `Bearer <token>`, `Basic <b64>`, SigV4's parameters
    for (const m of value.matchAll(/(?:Signature|Credential)=([^,\s/]+)/g)) found.push(m[1]!);
  }
  try {
    for (const [key, value] of new URL(request.url).searchParams)
      if (/key|token|sig|secret|password/i.test(key) && value) found.push(value);
  } catch {
    // a URL the client could not send either
  }
  return found;
}

/**
 * Removes credentials from text. A whole secret is replaced whatever its length; any run of
 * 8 or more characters of a secret is replaced too (so a cut secret leaves no prefix), and
 * a shorter piece of a secret's beginning right before a cut mark (`…`) or at the very end.
 * Only used on error paths: secrets added as a function are only listed (and every list
 * only prepared) when text is first redacted, so a request that ends well never pays for it.
 */
export class Redactor {
  /** The secrets as given, and the sources not listed yet. */
  private readonly raw: string[] = [];
  private pending: (() => Iterable<string>)[] | null = null;
  /** Every form to replace (as is, JSON-escaped once and twice), longest first; null: to be prepared. */
  private prepared: string[] | null = null;

  constructor(secrets: Iterable<string> = []) {
    this.add(secrets);
  }

  /** Adds credentials learnt later (e.g. the token a request was built with), or a function listing them when needed. */
  add(secrets: Iterable<string> | (() => Iterable<string>)): void {
    if (typeof secrets === 'function') (this.pending ??= []).push(secrets);
    else for (const s of secrets) this.raw.push(s);
    this.prepared = null;
  }

  get size(): number {
    return this.secrets().length;
  }

  text(input: string): string {
    if (input.length === 0) return input;
    const secrets = this.secrets();
    if (secrets.length === 0) return input;
    let out = input;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    for (const s of secrets) if (s.length > FRAGMENT) out = redactFragments(out, s);
    return redactCutPrefix(out, secrets);
  }

  /** The error with credentials removed from its reason (the same error when it was clean). */
  error(err: InferenceError): InferenceError {
    return err.withReason(this.text(err.reason));
  }

  private secrets(): string[] {
    if (this.pending !== null) {
      for (const list of this.pending) for (const s of list()) this.raw.push(s);
      this.pending = null;
    }
    if (this.prepared !== null) return this.prepared;
    const all = new Set<string>();
    for (const s of this.raw) {
      if (typeof s !== 'string' || s.length === 0) continue;
      all.add(s);
      // as a provider may quote them inside JSON (once or twice escaped)
      const once = JSON.stringify(s).slice(1, -1);
      all.add(once);
      all.add(JSON.stringify(once).slice(1, -1));
    }
    // longest first, so a secret containing another is replaced whole
    this.prepared = [...all].sort((a, b) => b.length - a.length);
    return this.prepared;
  }
}

/** Replaces every run of ≥ FRAGMENT characters that also occurs in `secret`. */
function redactFragments(text: string, secret: string): string {
  if (text.length < FRAGMENT) return text;
  const grams = new Set<string>();
  for (let i = 0; i + FRAGMENT <= secret.length; i++) grams.add(secret.slice(i, i + FRAGMENT));
  let out = '';
  let last = 0;
  let i = 0;
  while (i + FRAGMENT <= text.length) {
    if (!grams.has(text.slice(i, i + FRAGMENT))) {
      i++;
      continue;
    }
    let end = i + FRAGMENT;
    while (end < text.length && grams.has(text.slice(end - FRAGMENT + 1, end + 1))) end++;
    out += text.slice(last, i) + '[REDACTED]';
    last = end;
    i = end;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** A secret's beginning (3+ characters) cut off by `…` or by the end of the text. */
function redactCutPrefix(text: string, secrets: readonly string[]): string {
  let out = text;
  for (let cut = out.indexOf('…'); cut !== -1; cut = out.indexOf('…', cut + 1))
    out = trimPrefixBefore(out, cut, secrets);
  return trimPrefixBefore(out, out.length, secrets);
}

function trimPrefixBefore(text: string, at: number, secrets: readonly string[]): string {
  for (const s of secrets) {
    for (let n = Math.min(s.length - 1, FRAGMENT); n >= 3; n--) {
      if (at - n >= 0 && text.startsWith(s.slice(0, n), at - n))
        return text.slice(0, at - n) + '[REDACTED]' + text.slice(at);
    }
  }
  return text;
}

/** The text with every secret replaced by `[REDACTED]`. */
export function redact(text: string, secrets: readonly string[]): string {
  return new Redactor(secrets).text(text);
}

/** The error with secrets removed from its reason (a new error, or the same one when clean). */
export function redactError(err: InferenceError, secrets: readonly string[]): InferenceError {
  return new Redactor(secrets).error(err);
}
