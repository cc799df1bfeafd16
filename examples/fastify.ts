// The `_inference` API inside a Fastify app: one route for /_inference and below hands
// the raw request and response to the handler before Fastify parses the body
// (`reply.hijack()` tells Fastify the response is taken care of).
// Run: npx tsx examples/fastify.ts
// In your project: import { createInferenceHandler } from 'inference-stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { pathToFileURL } from 'node:url';
import { createInferenceHandler } from '../lib/index.js';

export async function start(port = 9200): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  const handler = createInferenceHandler();
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
  const url = await app.listen({ port, host: '127.0.0.1' });
  return { app, url };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { url } = await start(Number(process.env.PORT ?? 9200));
  console.log(`listening on ${url}`);
}
