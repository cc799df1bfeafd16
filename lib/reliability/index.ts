export { DEFAULT_RETRY_POLICY, NO_RETRY, isRetryableError, parseRetryAfter, retryDelay, withRetry, type Attempted, type RetryOptions, type RetryPolicy } from './retry.js';
export { StreamTracker, closeGracefully, shuttingDown, type OpenStream } from './shutdown.js';
export { callUpstream, guardStream, type UpstreamLike } from './upstream.js';
