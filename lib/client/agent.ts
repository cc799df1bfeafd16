import { Agent, type Dispatcher } from 'undici';

let shared: Agent | null = null;

/** The one keep-alive Agent every provider call goes through (created on first use). */
export function sharedAgent(): Dispatcher {
  shared ??= new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 128, pipelining: 1 });
  return shared;
}

/** Closes the shared Agent (e.g. on shutdown); a later call creates a new one. */
export async function closeSharedAgent(): Promise<void> {
  const agent = shared;
  shared = null;
  if (agent) await agent.close();
}
