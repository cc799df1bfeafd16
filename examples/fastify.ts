// The `_inference` API inside a Fastify app, with the keyless `demo` endpoint: one route for
// /_inference and below hands the raw request and response to the handler before Fastify parses
// the body (`reply.hijack()` tells Fastify the response is taken care of).
// Run: npx tsx examples/fastify.ts   (listens on $PORT, default 8080)
// In your project: import { createInferenceHandler } from 'inference-stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { pathToFileURL } from 'node:url';
import { createInferenceHandler } from '../lib/index.js';
import { demoRegistry, runMain, type ExampleOptions } from './demo.js';

export async function start(
  port: number,
  options: ExampleOptions = {},
): Promise<{ app: FastifyInstance; url: string }> {
  const demo = await demoRegistry(options);
  const app = Fastify();
  app.addHook('onClose', async () => demo.close());
  const handler = createInferenceHandler({ registry: demo.registry });
  app.route({
    method: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD'],
    url: '/_inference*',
    onRequest: (request, reply) => {
      reply.hijack();
      handler(request.raw, reply.raw);
    },
    handler: async () => undefined, // never reached: onRequest answered
  });
  app.get('/health', async () => ({ ok: true }));
  try {
    // Fastify rejects with the listen error (EADDRINUSE) itself
    return { app, url: await app.listen({ port, host: '127.0.0.1' }) };
  } catch (err) {
    await app.close();
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(start);
