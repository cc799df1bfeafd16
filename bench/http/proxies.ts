import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';

/**
 * The library under test: `dist` (as shipped, compiled by tsc; the caller builds it first),
 * `src` (the TypeScript sources through tsx, whose transform names every function made at
 * run time: a `__name` call and a property definition per closure, a cost the shipped code
 * does not have), or the path of another checkout's `dist/lib/index.js` (a before/after).
 */
export async function loadLibrary(arg: string): Promise<typeof import('../../lib/index.js')> {
  return (
    arg === 'src'
      ? await import('../../lib/index.js')
      : arg === 'dist'
        ? await import('../../dist/lib/index.js')
        : await import(pathToFileURL(arg).href)
  ) as typeof import('../../lib/index.js');
}

/** The least a proxy can do: the provider's bytes, unparsed, piped into the response (the floor for any proxy). */
export function passthroughProxy(providerUrl: string): (req: IncomingMessage, res: ServerResponse) => void {
  const agent = new Agent({ connections: 4096, keepAliveTimeout: 30_000 });
  async function proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const b of req) body += b;
    const { input } = JSON.parse(body) as { input: string };
    const upstream = await request(providerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: input }] }),
      dispatcher: agent,
    });
    res.writeHead(upstream.statusCode, { 'content-type': 'text/event-stream' });
    upstream.body.pipe(res);
    res.once('close', () => upstream.body.destroy());
  }
  return (req, res) => {
    proxy(req, res).catch(() => res.destroy());
  };
}

/** Registers the `bench` completion endpoint (OpenAI, at the simulated provider) through the API, as a user would. */
export async function registerBenchEndpoint(url: string, providerUrl: string): Promise<void> {
  const r = await fetch(url + '/_inference/completion/bench', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'openai', service_settings: { api_key: 'k', model_id: 'm', url: providerUrl } }),
  });
  if (!r.ok) throw new Error(`endpoint registration failed: ${r.status} ${await r.text()}`);
}
