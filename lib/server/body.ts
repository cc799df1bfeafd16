import type { IncomingMessage } from 'node:http';
import { bodyTooLarge, contentParseError, nestingTooDeep, unsupportedMediaType } from '../errors.js';

const JSON_TYPE = /^application\/(?:json|vnd\.elasticsearch\+json)\s*(?:;|$)/i;

/** Elasticsearch's (Jackson's) default maximum nesting depth of a request body. */
export const MAX_NESTING_DEPTH = 1000;

/** The request body as JSON, or undefined when there is none. Throws Elasticsearch's errors. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  // A framework that parsed the body already (express.json(), Fastify) left it on req.body.
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined && (req.readableEnded || req.complete)) {
    if (Buffer.isBuffer(parsed) || typeof parsed === 'string') return parseJson(Buffer.from(parsed));
    checkParsedDepth(parsed);
    return parsed;
  }
  const type = req.headers['content-type'];
  const bytes = await readBody(req, maxBytes);
  if (bytes.length === 0) return undefined;
  if (type !== undefined && !JSON_TYPE.test(type)) {
    throw unsupportedMediaType(type);
  }
  return parseJson(bytes);
}

/**
 * The request body's bytes, read with plain listeners (no async iterator: a promise and an
 * end-of-stream watcher per chunk cost more than the small body itself). Over `maxBytes`:
 * the rest is read and dropped, and the 413 thrown. A request that closes before its end
 * rejects, as iterating it would.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  if (req.readableEnded) return Promise.resolve(EMPTY);
  if (req.destroyed) return Promise.reject(prematureClose());
  return new Promise((resolve, reject) => {
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        done();
        req.resume();
        reject(bodyTooLarge(maxBytes));
      } else if (first === null) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks !== null ? Buffer.concat(chunks, size) : (first ?? EMPTY));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      done();
      reject(prematureClose());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    req.resume();
  });
}

const EMPTY = Buffer.alloc(0);

/** What iterating a request that closed before its end throws. */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function parseJson(bytes: Buffer): unknown {
  // before parsing: nothing downstream (validation, storage, serialization) meets a body deeper than this
  checkDepth(bytes);
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw contentParseError(`Failed to parse request body: ${(err as Error).message}`);
  }
}

function tooDeep(line: number, column: number, depth: number): Error {
  return nestingTooDeep(line, column, depth, MAX_NESTING_DEPTH);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/**
 * Nesting depth of JSON bytes, counted outside strings, without parsing: a body nested
 * deeper than Elasticsearch allows is refused before anything recursive sees it. The
 * bytes that matter are ASCII, so UTF-8 needs no decoding.
 */
export function checkDepth(bytes: Uint8Array, max = MAX_NESTING_DEPTH): void {
  let depth = 0;
  let inString = false;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
      continue;
    }
    switch (b) {
      case QUOTE:
        inString = true;
        break;
      case 0x5b: // [
      case 0x7b: // {
        if (++depth > max) throw tooDeep(line, i - lineStart + 1, depth);
        break;
      case 0x5d: // ]
      case 0x7d: // }
        depth--;
        break;
      case NEWLINE:
        line++;
        lineStart = i + 1;
        break;
      default:
    }
  }
}

/** The same bound for a body a framework already parsed (iterative: the check itself cannot overflow the stack). */
function checkParsedDepth(value: unknown, max = MAX_NESTING_DEPTH): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > max) throw tooDeep(1, 1, d + 1);
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
}
