export { DEFAULT_RETRY_POLICY, NO_RETRY, isRetryableError, parseRetryAfter, retryDelay, withRetry, type Attempted, type RetryOptions, type RetryPolicy } from './retry.js';
