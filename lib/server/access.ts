import { invalidCredentials, missingCredentials, SecurityError, unauthorized } from '../errors.js';
import type { ApiKeyIdentity, ApiKeys, Privilege } from './api-keys.js';

/** Elasticsearch's action names for the inference routes, and the privilege each needs. */
export const ACTIONS = {
  get: { name: 'cluster:monitor/xpack/inference/get', privilege: 'monitor_inference' },
  infer: { name: 'cluster:monitor/xpack/inference/post', privilege: 'monitor_inference' },
  put: { name: 'cluster:admin/xpack/inference/put', privilege: 'manage_inference' },
  delete: { name: 'cluster:admin/xpack/inference/delete', privilege: 'manage_inference' },
} as const satisfies Record<string, { name: string; privilege: Privilege }>;

export type Action = (typeof ACTIONS)[keyof typeof ACTIONS];

/** The action a request method stands for on `/_inference` (POST: inference, streaming or not). Unknown methods need the most. */
export function actionFor(method: string): Action {
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      return ACTIONS.get;
    case 'POST':
      return ACTIONS.infer;
    case 'DELETE':
      return ACTIONS.delete;
    default:
      return ACTIONS.put;
  }
}

/** Elasticsearch's error body for a security error, `header` included as Elasticsearch writes it. */
export function securityErrorBody(err: SecurityError): Record<string, unknown> {
  const cause: Record<string, unknown> = { type: err.type, reason: err.reason };
  if (Object.keys(err.headers).length > 0) cause.header = err.headers;
  return { error: { root_cause: [cause], ...cause }, status: err.status };
}

/**
 * Authenticates and authorizes one request. Returns the identity, or throws the
 * SecurityError to answer with. With no keys configured every request is let through
 * (loopback only: see bind.ts) and the result is null.
 */
export function checkAccess(
  keys: ApiKeys | null,
  authorization: string | string[] | undefined,
  method: string,
  uri: string,
): ApiKeyIdentity | null {
  if (keys === null) return null;
  const auth = keys.authenticate(authorization);
  if (auth.result === 'missing') throw missingCredentials(uri);
  if (auth.result === 'invalid') throw invalidCredentials();
  const action = actionFor(method);
  if (!auth.identity.privileges.has(action.privilege)) throw unauthorized(action, auth.identity);
  return auth.identity;
}

/** Extra response headers for a security error: the 401 challenge, one line with both schemes. */
export function securityHeaders(err: SecurityError): Record<string, string> {
  const challenge = err.headers['WWW-Authenticate'];
  return challenge ? { 'www-authenticate': challenge.join(', ') } : {};
}
