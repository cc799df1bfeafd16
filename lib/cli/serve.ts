import { parseArgs } from 'node:util';
import type { CliIo } from './main.js';
import { parseWorkers, runServe } from './fleet.js';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';
import { LIMIT_NAMES, resolveLimits, type Limits } from '../server/limits.js';
import { ALLOW_HOSTS_ENV, HostPolicy } from '../server/url-policy.js';

const HELP = `usage: inference-stream serve [--host H] [--port N] [--endpoints FILE] [--demo-tps N] [--no-demo] [--bom] [--drain]
                              [--api-keys FILE] [--allow-hosts LIST] [--limit NAME=VALUE]... [--retries N] [--shutdown-grace MS]
                              [--workers N|auto] [--log-level L] [--log-format json|pretty]

  --host H          address to listen on (env HOST; default 127.0.0.1)
  --port N          port (env PORT; default 9200; 0 picks a free port)
  --endpoints FILE|URL  keep endpoints in FILE across restarts, or share them with a fleet in Redis:
                    redis://[user:pass@]host:port[/db] or rediss:// (env INFERENCE_STREAM_ENDPOINTS);
                    INFERENCE_STREAM_SECRETS_KEY (32 bytes, base64) encrypts secret settings at rest
  --demo-tps N      token rate of the simulated provider behind the demo endpoint (env INFERENCE_STREAM_DEMO_TPS; default 40)
  --no-demo         no demo endpoint
  --bom             U+FEFF before every event, byte for byte as Elasticsearch
  --drain           read a provider to its end when a streaming client disconnects (default: abort at once);
                    a drain keeps its stream slot and ends after drainTimeoutMs or at shutdown
  --api-keys FILE   API keys with privileges, {"api_keys":[{"id","key_sha256"|"key","privileges"}]} (env INFERENCE_STREAM_API_KEYS_FILE);
                    INFERENCE_STREAM_API_KEY=<key> adds one key with both privileges. Without keys only loopback is allowed.
  --allow-hosts L   provider hosts endpoints may use, comma-separated: api.openai.com,*.openai.azure.com,127.0.0.1:11434
                    (env ${ALLOW_HOSTS_ENV}; default: every host)
  --limit N=V       a limit, repeatable: ${LIMIT_NAMES.join(', ')}
  --retries N       provider retries before the first byte reached the client (429, 5xx, refused/reset; default 2)
  --shutdown-grace MS  on SIGTERM/SIGINT, how long requests may finish before they are ended (default 10000);
                    the process exits within this + 1 s, and a second signal does not cut the close short
  --workers N|auto  worker processes on the same port (env INFERENCE_STREAM_WORKERS; auto = one per core; default 1)
  --log-level L     fatal, error, warn, info (default), debug, trace or silent (env INFERENCE_STREAM_LOG_LEVEL)
  --log-format F    json (default: one JSON line per event on stderr) or pretty (env INFERENCE_STREAM_LOG_FORMAT)

  GET / answers like an Elasticsearch node; GET /_prometheus/metrics has Prometheus metrics (monitor_inference).
`;

function usage(io: CliIo, message: string): number {
  io.stderr.write(`inference-stream: ${message}\n\n${HELP}`);
  return 2;
}

/** `inference-stream serve`: runs until SIGTERM/SIGINT, then closes cleanly (exit status 0). */
export async function serve(args: string[], io: CliIo): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        endpoints: { type: 'string' },
        'demo-tps': { type: 'string' },
        'no-demo': { type: 'boolean' },
        bom: { type: 'boolean' },
        drain: { type: 'boolean' },
        'api-keys': { type: 'string' },
        'allow-hosts': { type: 'string' },
        limit: { type: 'string', multiple: true },
        retries: { type: 'string' },
        'shutdown-grace': { type: 'string' },
        workers: { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const host = (values.host as string | undefined) ?? process.env.HOST ?? '127.0.0.1';
  const portText = (values.port as string | undefined) ?? process.env.PORT ?? '9200';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) return usage(io, `invalid port [${portText}]`);
  const tpsText = (values['demo-tps'] as string | undefined) ?? process.env.INFERENCE_STREAM_DEMO_TPS;
  const tokensPerSecond = tpsText === undefined ? undefined : Number(tpsText);
  if (tokensPerSecond !== undefined && !(tokensPerSecond > 0)) return usage(io, `invalid --demo-tps [${tpsText}]`);
  const endpointsFile = (values.endpoints as string | undefined) ?? process.env.INFERENCE_STREAM_ENDPOINTS;
  const limits: Partial<Limits> = {};
  for (const pair of (values.limit as string[] | undefined) ?? []) {
    const m = /^([A-Za-z]+)=(\d+)$/.exec(pair);
    if (!m) return usage(io, `invalid --limit [${pair}], expected NAME=INTEGER`);
    (limits as Record<string, number>)[m[1]!] = Number(m[2]);
  }
  try {
    resolveLimits(limits);
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const retriesText = values.retries as string | undefined;
  if (retriesText !== undefined && !/^\d{1,2}$/.test(retriesText))
    return usage(io, `invalid --retries [${retriesText}]`);
  const graceText = values['shutdown-grace'] as string | undefined;
  if (graceText !== undefined && !/^\d+$/.test(graceText)) return usage(io, `invalid --shutdown-grace [${graceText}]`);
  const workers = parseWorkers((values.workers as string | undefined) ?? process.env.INFERENCE_STREAM_WORKERS);
  if (workers === null)
    return usage(
      io,
      `invalid --workers [${String(values.workers ?? process.env.INFERENCE_STREAM_WORKERS)}], expected a number or auto`,
    );
  const logLevel = ((values['log-level'] as string | undefined) ??
    process.env.INFERENCE_STREAM_LOG_LEVEL ??
    'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    return usage(io, `invalid --log-level [${logLevel}], expected one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = ((values['log-format'] as string | undefined) ??
    process.env.INFERENCE_STREAM_LOG_FORMAT ??
    'json') as LogFormat;
  if (logFormat !== 'json' && logFormat !== 'pretty')
    return usage(io, `invalid --log-format [${logFormat}], expected json or pretty`);
  return runServe(
    {
      host,
      port,
      endpoints: endpointsFile || undefined,
      demo: values['no-demo'] ? false : { tokensPerSecond },
      bom: values.bom === true,
      drain: values.drain === true,
      apiKeysFile: values['api-keys'] as string | undefined,
      allowHosts: HostPolicy.parse((values['allow-hosts'] as string | undefined) ?? process.env[ALLOW_HOSTS_ENV])
        .entries,
      limits,
      retries: retriesText === undefined ? undefined : Number(retriesText),
      shutdownGraceMs: graceText === undefined ? undefined : Number(graceText),
      workers,
      logLevel,
      logFormat,
    },
    io,
  );
}
