import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pipeline } from 'node:stream/promises';
import through2 from 'through2';
import { toInferenceError } from '../errors.js';
import { completionStream } from '../pipeline/completion-stream.js';
import { deltaStream } from '../pipeline/delta-stream.js';
import { isProviderId, listProviders, providerIds } from '../providers/index.js';

const USAGE = `usage:
  inference-stream deltas  --provider ID [--content-type T] [--status N] < body   NDJSON of delta objects
  inference-stream convert --provider ID [--content-type T] [--status N] [--bom] < body   Elasticsearch SSE bytes
  inference-stream providers                                                    list provider ids
  inference-stream serve [--host H] [--port N] [--endpoints FILE]              run the _inference HTTP API

providers: ${providerIds().join(', ')}
`;

class UsageError extends Error {}

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const decodeFlags = {
  provider: { type: 'string' },
  'content-type': { type: 'string' },
  status: { type: 'string' },
  'inference-id': { type: 'string' },
  bom: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[], io: CliIo = process): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'deltas':
        return await runDeltas(rest, io);
      case 'convert':
        return await runConvert(rest, io);
      case 'providers':
        parse(rest, {});
        for (const p of listProviders()) io.stdout.write(`${p.id}\t${p.description}\n`);
        return 0;
      case 'serve': {
        const { serve } = await import('./serve.js');
        return await serve(rest, io);
      }
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(USAGE);
        return 0;
      default:
        throw new UsageError(command ? `unknown command [${command}]` : 'no command given');
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.stderr.write(`inference-stream: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
}

function decodeOptions(args: string[]) {
  const values = parse(args, decodeFlags);
  const provider = values.provider;
  if (typeof provider !== 'string') throw new UsageError('--provider is required');
  if (!isProviderId(provider)) throw new UsageError(`unknown provider [${provider}]`);
  let status = 200;
  if (values.status !== undefined) {
    status = Number(values.status);
    if (!/^\d{3}$/.test(String(values.status))) throw new UsageError(`--status must be an HTTP status code, got [${values.status}]`);
  }
  return {
    provider,
    options: {
      contentType: values['content-type'] as string | undefined,
      status,
      inferenceId: values['inference-id'] as string | undefined,
      bom: values.bom === true,
    },
  };
}

async function runDeltas(args: string[], io: CliIo): Promise<number> {
  const { provider, options } = decodeOptions(args);
  const toLines = through2.obj(function (delta, _enc, callback) {
    callback(null, JSON.stringify(delta) + '\n');
  });
  try {
    await pipeline(io.stdin, deltaStream(provider, options), toLines, io.stdout, { end: false });
    return 0;
  } catch (err) {
    const e = toInferenceError(err);
    io.stdout.write(JSON.stringify({ error: { type: e.type, reason: e.reason, status: e.status } }) + '\n');
    return 1;
  }
}

async function runConvert(args: string[], io: CliIo): Promise<number> {
  const { provider, options } = decodeOptions(args);
  const stream = completionStream(provider, options);
  await pipeline(io.stdin, stream, io.stdout, { end: false });
  return stream.endedWithError ? 1 : 0;
}
