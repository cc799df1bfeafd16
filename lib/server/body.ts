import type { IncomingMessage } from 'node:http';
import { bodyTooLarge, contentParseError, unsupportedMediaType } from '../errors.js';

const JSON_TYPE = /^application\/(?:json|vnd\.elasticsearch\+json)\s*(?:;|$)/i;

/** The request body as JSON, or undefined when there is none. Throws Elasticsearch's errors. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  // A framework that parsed the body already (express.json(), Fastify) left it on req.body.
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined && (req.readableEnded || req.complete)) {
    if (Buffer.isBuffer(parsed) || typeof parsed === 'string') return parseJson(parsed.toString());
    return parsed;
  }
  const type = req.headers['content-type'];
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw bodyTooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  if (type !== undefined && !JSON_TYPE.test(type)) {
    throw unsupportedMediaType(type);
  }
  return parseJson(Buffer.concat(chunks, size).toString('utf8'));
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw contentParseError(`Failed to parse request body: ${(err as Error).message}`);
  }
}
