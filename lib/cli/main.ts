import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pipeline } from 'node:stream/promises';
import through2 from 'through2';
import { toInferenceError } from '../errors.js';
import { chatCompletionStream } from '../pipeline/chat-completion-stream.js';
import { completionStream } from '../pipeline/completion-stream.js';
import { deltaStream } from '../pipeline/delta-stream.js';
import { isProviderId, listProviders, providerIds } from '../providers/index.js';

const USAGE = `usage: inference-stream <command> [options]

  convert --provider ID [--task completion|chat_completion] [--content-type T] [--status N]
          [--inference-id ID] [--model M] [--bom] < body
                 a provider's response body on stdin, Elasticsearch's completion events (or, with
                 --task chat_completion, its chat.completion.chunk events) on stdout
  deltas --provider ID [--content-type T] [--status N] [--inference-id ID] < body
                 a provider's response body on stdin, one JSON delta object per line on stdout
  providers      the provider ids and what each one reads
  serve          the _inference HTTP API (inference-stream serve --help)

  -h, --help     this text
  -v, --version  the version

  curl -sN https://api.openai.com/v1/chat/completions ... | npx inference-stream convert --provider openai

providers: ${providerIds().join(', ')}
`;

/** A bad command line: the message and the usage go to stderr, exit status 2. */
class UsageError extends Error {}

/** The streams the CLI reads and writes (process.stdin/stdout/stderr by default). */
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
  task: { type: 'string' },
  model: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Every message the CLI writes to stderr has this one shape. */
function say(io: CliIo, message: string): void {
  io.stderr.write(`inference-stream: ${message}\n`);
}

/**
 * Runs the CLI with `argv` (without the node and script paths); resolves to the exit status:
 * 0 success (also when the reader of stdout went away, as with `| head -1`), 1 failure, 2 usage error.
 */
export async function main(argv: string[], io: CliIo = process): Promise<number> {
  // `... | head -1`: the reader closing the pipe ends the command quietly with status 0. The listener
  // stays: the error of a write made just before returning is emitted on a later tick.
  const out = { closed: false };
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') out.closed = true;
  };
  io.stdout.on('error', onStdoutError);
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'deltas':
        return await runDeltas(rest, io, out);
      case 'convert':
        return await runConvert(rest, io);
      case 'providers':
        if (parse(rest, { help: { type: 'boolean', short: 'h' } }).help) return help(io);
        for (const p of listProviders()) io.stdout.write(`${p.id}\t${p.description}\n`);
        return 0;
      case 'serve': {
        const { serve } = await import('./serve.js');
        return await serve(rest, io);
      }
      case '-h':
      case '--help':
      case 'help':
        return help(io);
      case '-v':
      case '--version':
        io.stdout.write(`${version()}\n`);
        return 0;
      default:
        throw new UsageError(command ? `unknown command [${command}]` : 'no command given');
    }
  } catch (err) {
    if (out.closed || isClosedPipe(err)) return 0;
    if (err instanceof UsageError || isParseArgsError(err)) {
      say(io, `${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    say(io, err instanceof Error ? err.message : String(err));
    return 1;
  }
}

function help(io: CliIo): number {
  io.stdout.write(USAGE);
  return 0;
}

/** The version in the package.json next to lib/ (source) or dist/lib/ (built). */
function version(): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'inference-stream' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}

function isClosedPipe(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'EPIPE';
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<
    string,
    string | boolean | undefined
  >;
}

function decodeOptions(command: 'deltas' | 'convert', args: string[], io: CliIo) {
  const values = parse(args, decodeFlags);
  if (values.help) return null;
  const task = values.task ?? 'completion';
  if (command === 'deltas' && (values.task !== undefined || values.model !== undefined))
    throw new UsageError('--task and --model are options of convert');
  if (task !== 'completion' && task !== 'chat_completion')
    throw new UsageError(`--task must be completion or chat_completion, got [${String(task)}]`);
  const provider = values.provider;
  if (typeof provider !== 'string') throw new UsageError('--provider is required');
  if (!isProviderId(provider)) throw new UsageError(`unknown provider [${provider}]`);
  let status = 200;
  if (values.status !== undefined) {
    if (!/^\d{3}$/.test(String(values.status)))
      throw new UsageError(`--status must be an HTTP status code, got [${values.status}]`);
    status = Number(values.status);
  }
  // a person typing at a terminal rather than piping a body in gets told what is expected
  if ((io.stdin as { isTTY?: boolean }).isTTY) {
    say(
      io,
      `reading a response body from the ${provider} provider on standard input (end it with Ctrl-D); ` +
        `pipe one in: curl -sN ... | npx inference-stream ${command} --provider ${provider}`,
    );
  }
  return {
    provider,
    task,
    options: {
      contentType: values['content-type'] as string | undefined,
      status,
      inferenceId: values['inference-id'] as string | undefined,
      bom: values.bom === true,
      ...(typeof values.model === 'string' ? { model: values.model } : {}),
    },
  };
}

async function runDeltas(args: string[], io: CliIo, out: { closed: boolean }): Promise<number> {
  const decoded = decodeOptions('deltas', args, io);
  if (decoded === null) return help(io);
  const toLines = through2.obj(function (delta, _enc, callback) {
    callback(null, JSON.stringify(delta) + '\n');
  });
  try {
    await pipeline(io.stdin, deltaStream(decoded.provider, decoded.options), toLines, io.stdout, { end: false });
    return 0;
  } catch (err) {
    if (out.closed || isClosedPipe(err)) return 0;
    const e = toInferenceError(err);
    io.stdout.write(JSON.stringify({ error: { type: e.type, reason: e.reason, status: e.status } }) + '\n');
    return 1;
  }
}

async function runConvert(args: string[], io: CliIo): Promise<number> {
  const decoded = decodeOptions('convert', args, io);
  if (decoded === null) return help(io);
  const stream =
    decoded.task === 'chat_completion'
      ? chatCompletionStream(decoded.provider, decoded.options)
      : completionStream(decoded.provider, decoded.options);
  await pipeline(io.stdin, stream, io.stdout, { end: false });
  return stream.endedWithError ? 1 : 0;
}
