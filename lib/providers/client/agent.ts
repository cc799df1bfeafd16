import { Agent, type Dispatcher } from 'undici';

let shared: Agent | null = null;

/**
 * Each open stream holds one provider connection for its whole length, so the per-origin
 * connection cap is the number of streams a provider can serve at once: at 128 the
 * 1,000-stream load benchmark queued most streams for seconds. The concurrent-stream limit
 * is what bounds load; this only has to stay above it.
 */
const CONNECTIONS_PER_ORIGIN = 4096;

/** A keep-alive Agent for provider calls, owned by the caller (who closes it). */
export function createAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: CONNECTIONS_PER_ORIGIN, pipelining: 1 });
}

/** The one keep-alive Agent provider calls share by default (created on first use). */
export function sharedAgent(): Dispatcher {
  shared ??= createAgent();
  return shared;
}

/** Closes the shared Agent (e.g. on shutdown); a later call creates a new one. */
export async function closeSharedAgent(): Promise<void> {
  const agent = shared;
  shared = null;
  if (agent) await agent.close();
}
