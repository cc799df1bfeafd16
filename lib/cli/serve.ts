import { parseArgs } from 'node:util';
import { FileRegistry } from '../registry/file.js';
import { startInferenceServer } from '../server/server.js';
import type { CliIo } from './main.js';
import { ApiKeys } from '../server/api-keys.js';
import { LIMIT_NAMES, resolveLimits, type Limits } from '../server/limits.js';
import { ALLOW_HOSTS_ENV, HostPolicy } from '../server/url-policy.js';

const HELP = `usage: inference-stream serve [--host H] [--port N] [--endpoints FILE] [--demo-tps N] [--no-demo] [--bom] [--drain]
                              [--api-keys FILE] [--allow-hosts LIST] [--limit NAME=VALUE]... [--retries N] [--shutdown-grace MS]

  --host H          address to listen on (env HOST; default 127.0.0.1)
  --port N          port (env PORT; default 9200; 0 picks a free port)
  --endpoints FILE  keep endpoints in FILE across restarts (env INFERENCE_STREAM_ENDPOINTS)
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
  const hosts = HostPolicy.parse((values['allow-hosts'] as string | undefined) ?? process.env[ALLOW_HOSTS_ENV]);
  const warn = (message: string) => io.stderr.write(`inference-stream: warning: ${message}\n`);
  let apiKeys: ApiKeys | null;
  try {
    apiKeys = await ApiKeys.load({
      file: (values['api-keys'] as string | undefined) ?? process.env.INFERENCE_STREAM_API_KEYS_FILE,
      onWarning: warn,
    });
  } catch (err) {
    io.stderr.write(`inference-stream: ${(err as Error).message}\n`);
    return 1;
  }

  let registry: FileRegistry | undefined;
  if (endpointsFile) {
    try {
      registry = await FileRegistry.open(endpointsFile);
      for (const file of registry.removedTempFiles)
        io.stderr.write(`inference-stream: removed a temp file a stopped server left behind: ${file}\n`);
    } catch (err) {
      io.stderr.write(`inference-stream: ${(err as Error).message}\n`);
      return 1;
    }
  }
  let server;
  try {
    server = await startInferenceServer({
      host,
      port,
      registry,
      demo: values['no-demo'] ? false : { tokensPerSecond },
      bom: values.bom === true,
      onDisconnect: values.drain ? 'drain' : 'abort',
      apiKeys,
      allowHosts: hosts.entries.length > 0 ? hosts.entries : null,
      onWarning: warn,
      limits,
      ...(retriesText === undefined ? {} : { retry: { maxAttempts: Number(retriesText) + 1 } }),
      ...(graceText === undefined ? {} : { shutdownGraceMs: Number(graceText) }),
      // Reasons never carry credentials (they are built from setting names and provider messages).
      onError: (err, info) =>
        io.stderr.write(
          `inference-stream: ${info.inferenceId ? `[${info.inferenceId}] ` : ''}${err.status} ${err.type}: ${err.reason}\n`,
        ),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const listening = e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL';
    io.stderr.write(
      `inference-stream: ${listening ? `cannot listen on ${host}:${port}: ` : 'cannot start: '}${e.message}\n`,
    );
    return 1;
  }
  io.stdout.write(`listening on ${server.url}\n`);
  const graceMs = graceText === undefined ? 10_000 : Number(graceText);
  return new Promise<number>((resolve) => {
    let stopping = false;
    // Installed for the whole shutdown: `npm start` relays a signal sent to the process group,
    // so node may see it twice, and a second one must not cut the graceful close short.
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.stderr.write(`inference-stream: ${signal} again; already closing (at most ${graceMs + 1000} ms)\n`);
        return;
      }
      stopping = true;
      // the close is bounded by grace + 0.5 s; this is the backstop should anything hang
      setTimeout(() => {
        io.stderr.write('inference-stream: shutdown took too long; exiting\n');
        process.exit(1);
      }, graceMs + 900).unref();
      server.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
