export { ApiKeys, API_KEY_ENV, PRIVILEGES, credentialOf, hashApiKey, type ApiKeyConfig, type ApiKeyIdentity, type Authentication, type Privilege } from './api-keys.js';
export {
  ACTIONS,
  WWW_AUTHENTICATE,
  SecurityError,
  actionFor,
  checkAccess,
  invalidCredentials,
  missingCredentials,
  securityErrorBody,
  securityHeaders,
  unauthorized,
  type Action,
} from './access.js';
export { assertSafeBinding, isLoopbackHost } from './bind.js';
export { redact, redactError, secretsOf } from './redact.js';
