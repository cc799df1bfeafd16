import { ErrorType, InferenceError } from '../errors.js';
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

/** The challenge Elasticsearch sends with a 401, for the schemes this server takes. */
export const WWW_AUTHENTICATE = ['ApiKey', 'Bearer realm="security"'] as const;

/**
 * A security_exception that also carries Elasticsearch's `header` member
 * (`{"WWW-Authenticate":[…]}` inside the error body).
 */
export class SecurityError extends InferenceError {
  readonly headers: Record<string, string[]>;
  constructor(reason: string, status: number, headers: Record<string, string[]> = {}) {
    super(ErrorType.security, reason, status);
    this.headers = headers;
  }
}

export function missingCredentials(uri: string): SecurityError {
  return new SecurityError(`missing authentication credentials for REST request [${uri}]`, 401, { 'WWW-Authenticate': [...WWW_AUTHENTICATE] });
}

export function invalidCredentials(): SecurityError {
  return new SecurityError('unable to authenticate with provided credentials and anonymous access is not allowed for this request', 401, {
    'WWW-Authenticate': [...WWW_AUTHENTICATE],
  });
}

export function unauthorized(action: Action, who: ApiKeyIdentity): SecurityError {
  const granting = action.privilege === 'manage_inference' ? 'manage_inference' : 'monitor_inference,manage_inference';
  return new SecurityError(
    `action [${action.name}] is unauthorized for API key id [${who.id}] of user [${who.name}], this action is granted by the cluster privileges [${granting}]`,
    403,
  );
}

/** Elasticsearch's error body for a security error, `header` included as Elasticsearch writes it. */
export function securityErrorBody(err: SecurityError): Record<string, unknown> {
  const cause: Record<string, unknown> = { type: err.type, reason: err.reason };
  if (Object.keys(err.headers).length > 0) cause.header = err.headers;
  return { error: { root_cause: [cause], ...cause }, status: err.status };
}

/**
 * Authenticates and authorizes one request. Returns the identity, or the SecurityError to
 * answer with. With no keys configured every request is let through (loopback only: see bind.ts).
 */
export function checkAccess(keys: ApiKeys | null, authorization: string | string[] | undefined, method: string, uri: string): ApiKeyIdentity | SecurityError | null {
  if (keys === null) return null;
  const auth = keys.authenticate(authorization);
  if (auth.result === 'missing') return missingCredentials(uri);
  if (auth.result === 'invalid') return invalidCredentials();
  const action = actionFor(method);
  if (!auth.identity.privileges.has(action.privilege)) return unauthorized(action, auth.identity);
  return auth.identity;
}

/** Extra response headers for a security error: the 401 challenge, one line with both schemes. */
export function securityHeaders(err: SecurityError): Record<string, string> {
  const challenge = err.headers['WWW-Authenticate'];
  return challenge ? { 'www-authenticate': challenge.join(', ') } : {};
}
