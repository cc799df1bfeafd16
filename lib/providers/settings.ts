import { createHash } from 'node:crypto';
import { invalidUrl, missingSetting } from '../errors.js';
import type { StoredEndpoint } from '../registry/types.js';

export type Settings = Record<string, unknown>;

/** A string setting, or undefined. */
export function text(settings: Settings, key: string): string | undefined {
  const v = settings[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** A string setting that must be there (checked at PUT; this guards stores filled by other means). */
export function need(endpoint: StoredEndpoint, key: string): string {
  const v = text(endpoint.service_settings, key);
  if (v === undefined) throw missingSetting('service_settings', key);
  return v;
}

/** The model name: `model_id`, or `model` as some services call it. */
export function modelOf(endpoint: StoredEndpoint): string | undefined {
  return text(endpoint.service_settings, 'model_id') ?? text(endpoint.service_settings, 'model');
}

/**
 * `service_settings.url` when given, else the service's public endpoint. A url with no
 * path (`http://127.0.0.1:8080`) gets the default path and query appended, so a test
 * server or proxy can be named by its origin alone; any other url is used exactly.
 */
export function resolveUrl(endpoint: StoredEndpoint, defaultUrl: string): string {
  const given = text(endpoint.service_settings, 'url');
  if (given === undefined) return defaultUrl;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw invalidUrl(given);
  }
  if ((url.pathname === '/' || url.pathname === '') && url.search === '') {
    const d = new URL(defaultUrl);
    return url.origin + d.pathname + d.search;
  }
  return url.href;
}

/** Copies the listed task settings that are set, under the provider's names. */
export function mapSettings(task: Settings, names: Record<string, string>, into: Settings = {}): Settings {
  for (const from of Object.keys(names)) {
    const v = task[from];
    if (v !== undefined && v !== null) into[names[from]!] = v;
  }
  return into;
}

/** A cache key for a credential: a hash, never the secret itself. */
export function keyOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** The JSON request headers most providers take, with the given accept type. */
export function jsonHeaders(accept = 'text/event-stream'): Record<string, string> {
  return { 'content-type': 'application/json', accept };
}
