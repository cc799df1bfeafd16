/** One inference endpoint as stored: everything PUT received, secrets included. */
export interface StoredEndpoint {
  inference_id: string;
  task_type: string;
  service: string;
  service_settings: Record<string, unknown>;
  task_settings: Record<string, unknown>;
}

/**
 * Where endpoints live. Async so that it can be backed by any store (a database, a
 * secrets manager); the embedded ones are in memory, optionally persisted to a file.
 */
export interface EndpointRegistry {
  get(inferenceId: string): Promise<StoredEndpoint | undefined>;
  /**
   * Stores the endpoint; resolves false (and stores nothing) when the id exists and `overwrite` is not set
   * (or, with `replaceOnly`, when it does not exist). Throws the `tooManyEndpoints` error when a new id would
   * pass `maxEndpoints`, checked atomically with the write (a shared registry counts the whole fleet).
   */
  put(endpoint: StoredEndpoint, options?: PutOptions): Promise<boolean>;
  /** Resolves false when there was no such endpoint. */
  delete(inferenceId: string): Promise<boolean>;
  list(): Promise<StoredEndpoint[]>;
}

/** How `put` stores an endpoint. */
export interface PutOptions {
  /** Replace an endpoint of the same id. */
  overwrite?: boolean;
  /** Only replace (an update): never create, so an update racing a DELETE cannot bring the endpoint back. */
  replaceOnly?: boolean;
  /** Refuse a new id when this many endpoints are stored. */
  maxEndpoints?: number;
  /** Keep this endpoint in this process only (a fleet member's own `demo` endpoint); plain registries ignore it. */
  local?: boolean;
}

/** Setting names that hold credentials: stored, used, never returned. */
const SECRET_SETTINGS = new Set([
  'api_key',
  'secret_key',
  'access_key',
  'service_account_json',
  'entra_id',
  'secret',
  'password',
  'token',
  'access_token',
  'session_token',
]);

/** Whether a `service_settings` key holds a credential (stored and used, never shown). */
export function isSecretSetting(name: string): boolean {
  return SECRET_SETTINGS.has(name);
}

/** Settings whose value is a provider URL. */
const URL_SETTINGS = new Set(['url', 'streaming_url', 'target']);

/** A URL as GET and PUT show it: credentials inside it (`user:pass@`) are secrets and never echoed. */
export function publicUrl(value: unknown): unknown {
  if (typeof value !== 'string' || !value.includes('@')) return value;
  try {
    const url = new URL(value);
    if (url.username === '' && url.password === '') return value;
    if (url.username !== '') url.username = 'REDACTED';
    if (url.password !== '') url.password = 'REDACTED';
    return url.href;
  } catch {
    return value;
  }
}

/** The endpoint as Elasticsearch shows it: key order kept, secrets removed, empty task_settings omitted. */
export function publicEndpoint(endpoint: StoredEndpoint): Record<string, unknown> {
  const serviceSettings: Record<string, unknown> = {};
  for (const key of Object.keys(endpoint.service_settings)) {
    if (isSecretSetting(key)) continue;
    const value = endpoint.service_settings[key];
    serviceSettings[key] = URL_SETTINGS.has(key) ? publicUrl(value) : value;
  }
  const view: Record<string, unknown> = {
    inference_id: endpoint.inference_id,
    task_type: endpoint.task_type,
    service: endpoint.service,
    service_settings: serviceSettings,
  };
  if (Object.keys(endpoint.task_settings).length > 0) view.task_settings = endpoint.task_settings;
  return view;
}
