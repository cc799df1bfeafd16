import { createHash } from 'node:crypto';
import { JWT } from 'google-auth-library';
import { request, type Dispatcher } from 'undici';
import { providerAuthFailed as authError, safeMessage } from '../../errors.js';
import type { StoredEndpoint } from '../../registry/types.js';
import { text } from './settings.js';
import type { AuthContext } from './types.js';

const VERTEX_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface AuthOptions {
  dispatcher: Dispatcher;
  /** Supplies Vertex AI access tokens instead of the service-account flow (e.g. workload identity, tests). */
  googleAccessToken?: (endpoint: StoredEndpoint) => Promise<string>;
  /** IBM Cloud IAM token URL. Default https://iam.cloud.ibm.com/identity/token. */
  ibmIamUrl?: string;
}

/** Keyed by a hash, never by the secret itself. */
function keyOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/**
 * Credentials that need work per request, cached: Google service-account clients (their
 * tokens refresh themselves) and IBM IAM tokens until a minute before they expire.
 */
export function createAuthContext(options: AuthOptions): AuthContext {
  const googleClients = new Map<string, JWT>();
  const iamTokens = new Map<string, { token: string; expiresAt: number }>();

  async function googleAccessToken(endpoint: StoredEndpoint): Promise<string> {
    if (options.googleAccessToken) return options.googleAccessToken(endpoint);
    const json = text(endpoint.service_settings, 'service_account_json') ?? '';
    const cacheKey = keyOf(json) + (text(endpoint.service_settings, 'url') ? ':self-signed' : '');
    let client = googleClients.get(cacheKey);
    if (!client) {
      let account: { client_email?: unknown; private_key?: unknown };
      try {
        account = JSON.parse(json);
      } catch {
        throw authError(`[service_account_json] of inference endpoint [${endpoint.inference_id}] is not valid JSON`);
      }
      if (typeof account.client_email !== 'string' || typeof account.private_key !== 'string') {
        throw authError(`[service_account_json] of inference endpoint [${endpoint.inference_id}] lacks client_email or private_key`);
      }
      client = new JWT({ email: account.client_email, key: account.private_key, scopes: [VERTEX_SCOPE] });
      // With a custom url the target is not Google's, so neither is the token endpoint to ask:
      // a self-signed JWT (no network call; Vertex AI accepts these too) is sent instead.
      if (text(endpoint.service_settings, 'url')) client.useJWTAccessWithScope = true;
      googleClients.set(cacheKey, client);
    }
    try {
      const value = (await client.getRequestHeaders()).get('authorization');
      if (!value) throw new Error('no authorization header');
      return value.replace(/^Bearer /, '');
    } catch (err) {
      throw authError(`Failed to obtain a Google access token for inference endpoint [${endpoint.inference_id}]: ${safeMessage(err)}`);
    }
  }

  async function ibmIamToken(apiKey: string): Promise<string> {
    const cacheKey = keyOf(apiKey);
    const cached = iamTokens.get(cacheKey);
    if (cached && cached.expiresAt > Date.now() + 60_000) return cached.token;
    const url = options.ibmIamUrl ?? 'https://iam.cloud.ibm.com/identity/token';
    const res = await request(url, {
      dispatcher: options.dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: apiKey }).toString(),
    }).catch((err) => {
      throw authError(`Failed to reach the IBM Cloud IAM token endpoint: ${safeMessage(err)}`);
    });
    const data = (await res.body.json().catch(() => ({}))) as { access_token?: unknown; expiration?: unknown };
    if (res.statusCode !== 200 || typeof data.access_token !== 'string') {
      throw authError(`IBM Cloud IAM refused the API key with status [${res.statusCode}]`);
    }
    const expiresAt = typeof data.expiration === 'number' ? data.expiration * 1000 : Date.now() + 30 * 60_000;
    iamTokens.set(cacheKey, { token: data.access_token, expiresAt });
    return data.access_token;
  }

  return { googleAccessToken, ibmIamToken };
}
