export {
  DEFAULT_LIMITS,
  resolveLimits,
  formatDuration,
  bodyTooLarge,
  headersTooLarge,
  tooManyStreams,
  firstByteTimeout,
  idleTimeout,
  streamTooLong,
  tooManyEndpoints,
  answerTooLarge,
  inferenceIdError,
  endpointCountError,
  newEndpointError,
  clientErrorResponse,
  type Limits,
} from './limits.js';
export { StreamSlots } from './slots.js';
export { overdue, watchUpstream, type WatchedLimits } from './watchdog.js';
