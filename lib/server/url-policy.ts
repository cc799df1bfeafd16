import { hostNotAllowed, invalidUrlScheme } from '../errors.js';

/** The environment variable holding the provider host allow-list (comma-separated). */
export const ALLOW_HOSTS_ENV = 'INFERENCE_STREAM_ALLOW_HOSTS';

/**
 * Which provider hosts endpoints may send requests to. Entries are host names
 * (`api.openai.com`), wildcards for subdomains (`*.openai.azure.com`), IP addresses, each
 * optionally with a port (`127.0.0.1:11434`). Null allows every host.
 */
export class HostPolicy {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  readonly entries: readonly string[];

  constructor(entries: readonly string[] | null) {
    this.entries = entries ?? [];
    this.open = entries === null;
    for (const raw of this.entries) {
      const e = raw.trim().toLowerCase();
      if (e === '') continue;
      if (e.startsWith('*.')) this.suffixes.push(e.slice(1));
      else this.exact.add(e.replace(/^\[(.*)\](:\d+)?$/, '$1$2'));
    }
  }

  private readonly open: boolean;

  /** Every host allowed. */
  static readonly any = new HostPolicy(null);

  /** From `a.example.com,*.b.example.com,127.0.0.1:8080`; empty or absent text allows every host. */
  static parse(text: string | undefined): HostPolicy {
    if (text === undefined || text.trim() === '') return HostPolicy.any;
    return new HostPolicy(
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
  }

  /** Whether a request to `url` may be sent. */
  allows(url: URL): boolean {
    if (this.open) return true;
    const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    if (this.exact.has(host) || this.exact.has(`${host}:${port}`)) return true;
    return this.suffixes.some((s) => host.endsWith(s));
  }

  /** Throws the 400 for a URL this policy refuses. */
  check(url: string, field = 'url'): void {
    if (this.open) return;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return; // reported as an invalid url elsewhere
    }
    if (!this.allows(parsed)) throw hostNotAllowed(parsed.host, field);
  }
}

/** Only these URL schemes reach a provider. */
const SCHEMES = new Set(['http:', 'https:']);

/** The problem with a URL setting, or null: it must parse and be `http:` or `https:`. Never quotes userinfo. */
export function urlProblem(value: unknown, field: string): string | null {
  if (typeof value !== 'string') return `[service_settings] field [${field}] must be a string`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `[service_settings] Invalid url [${value.includes('@') ? '[REDACTED]' : value}] received for field [${field}]`;
  }
  if (!SCHEMES.has(url.protocol)) {
    return invalidUrlScheme(url.protocol.slice(0, -1), field);
  }
  return null;
}
