import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createAgent, ProviderClient } from '../providers/transport.js';
import { FileRegistry } from '../registry/file.js';
import { MemoryRegistry } from '../registry/memory.js';
import { RegistryHost, WorkerRegistry, type IpcChannel } from '../registry/cluster.js';
import { isRedisUrl, redactRedisUrl, RedisRegistry, type RegistryEvent } from '../registry/redis.js';
import { SecretBox } from '../registry/sealed.js';
import type { EndpointRegistry } from '../registry/types.js';
import { ApiKeys } from '../server/api-keys.js';
import type { Limits } from '../server/limits.js';
import { createMetrics, clusterMetricsText, shareWithPrimary, type FleetMetrics } from '../server/metrics.js';
import { clusterUuidFor } from '../server/node-routes.js';
import { RequestObserver } from '../server/observe.js';
import { startInferenceServer } from '../server/server.js';
import { createLogger, routeProcessOutput, type LogFormat, type LogLevel, type ServerLogger } from './log.js';
import type { CliIo } from './main.js';

/** Everything `serve` was told, checked. */
export interface ServeConfig {
  host: string;
  port: number;
  /** A file path, a `redis://` / `rediss://` URL, or undefined (memory). */
  endpoints: string | undefined;
  demo: false | { tokensPerSecond?: number | undefined };
  bom: boolean;
  drain: boolean;
  apiKeysFile: string | undefined;
  /** Provider hosts endpoints may name; empty: every host. */
  allowHosts: readonly string[];
  limits: Partial<Limits>;
  retries: number | undefined;
  shutdownGraceMs: number | undefined;
  workers: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** `--workers`: a positive integer or `auto` (one per core). */
export function parseWorkers(text: string | undefined): number | null {
  if (text === undefined || text === '') return 1;
  if (text === 'auto') return availableParallelism();
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1) return null;
  return Number(text);
}

const DEFAULT_GRACE_MS = 10_000;

/** Runs `serve`: one process, or with `workers` > 1 a primary that runs that many worker processes on one port. */
export async function runServe(config: ServeConfig, io: CliIo): Promise<number> {
  if (cluster.isWorker) return runProcess(config, io, true);
  if (config.workers > 1) return runPrimary(config, io);
  return runProcess(config, io, false);
}

function registryEventLogger(log: ServerLogger): (e: RegistryEvent) => void {
  return (e) => {
    if (e.event === 'registry_stale' || e.event === 'registry_error') log.warn(e, e.event);
    else log.info(e, e.event);
  };
}

/** Opens the registry this process reads (a worker's copy of the primary's, or Redis, or the file). */
async function openRegistry(
  config: ServeConfig,
  log: ServerLogger,
  worker: boolean,
): Promise<EndpointRegistry | undefined> {
  const where = config.endpoints;
  if (where !== undefined && isRedisUrl(where)) return RedisRegistry.open(where, { onEvent: registryEventLogger(log) });
  if (worker) return WorkerRegistry.connect(process as unknown as IpcChannel);
  if (where === undefined) return undefined;
  const file = await FileRegistry.open(where);
  for (const temp of file.removedTempFiles)
    log.warn({ event: 'registry_temp_removed', file: temp }, 'removed a temp file a stopped server left behind');
  if (file.resealed > 0)
    log.info({ event: 'registry_resealed', store: where, endpoints: file.resealed }, 'registry_resealed');
  return file;
}

async function closeRegistry(registry: EndpointRegistry | undefined): Promise<void> {
  if (registry instanceof RedisRegistry) await registry.close();
  else if (registry instanceof WorkerRegistry) registry.close();
}

let metricsAsks = 0;
const metricsPending = new Map<
  number,
  { resolve: (r: { text: string; contentType: string }) => void; reject: (e: Error) => void }
>();
let metricsListening = false;
/** A worker's metrics route: the primary sums every worker's metrics. One listener for all asks. */
function askPrimaryForMetrics(): Promise<{ text: string; contentType: string }> {
  if (!metricsListening) {
    metricsListening = true;
    process.on('message', (m: { t?: string; id?: number; text?: string; contentType?: string; error?: string }) => {
      if (m?.t !== 'is:metrics:res' || m.id === undefined) return;
      const p = metricsPending.get(m.id);
      if (!p) return;
      metricsPending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve({ text: m.text ?? '', contentType: m.contentType ?? 'text/plain' });
    });
  }
  const id = metricsAsks++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      metricsPending.delete(id);
      reject(new Error('the primary process did not answer within 10 s'));
    }, 10_000);
    metricsPending.set(id, {
      resolve: (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
    process.send!({ t: 'is:metrics', id });
  });
}

/** One serving process: alone, or one worker of a primary. */
async function runProcess(config: ServeConfig, io: CliIo, worker: boolean): Promise<number> {
  const workerId = worker ? cluster.worker!.id : undefined;
  const log = await createLogger({
    level: config.logLevel,
    format: config.logFormat,
    stderr: io.stderr === process.stderr ? undefined : io.stderr,
    base: workerId === undefined ? {} : { worker: workerId },
  });
  if (io.stderr === process.stderr) routeProcessOutput(log);
  const fail = (message: string, code = 1): number => {
    log.fatal({ event: 'start_failed', reason: message }, 'cannot start');
    log.flush();
    if (worker) process.disconnect();
    return code;
  };
  try {
    SecretBox.fromEnv();
  } catch (err) {
    return fail((err as Error).message);
  }
  let apiKeys: ApiKeys | null;
  try {
    apiKeys = await ApiKeys.load({
      file: config.apiKeysFile ?? process.env.INFERENCE_STREAM_API_KEYS_FILE,
      onWarning: (message) => log.warn({ event: 'api_key_file_mode', reason: message }, 'api_key_file_mode'),
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  let registry: EndpointRegistry | undefined;
  try {
    registry = await openRegistry(config, log, worker);
  } catch (err) {
    return fail((err as Error).message);
  }
  const registryView = registry as
    (EndpointRegistry & { size?: number; stale?: boolean; staleForMs?(): number }) | undefined;
  const streams = { observer: undefined as RequestObserver | undefined };
  let metrics: FleetMetrics;
  try {
    metrics = await createMetrics({
      activeStreams: () => streams.observer?.activeStreams ?? 0,
      registry: registryView,
    });
    if (worker) await shareWithPrimary(metrics);
  } catch (err) {
    await closeRegistry(registry);
    return fail((err as Error).message);
  }
  const observer = new RequestObserver({ log, metrics, registry });
  streams.observer = observer;
  // this process's own provider connections, closed when it stops
  const agent = createAgent();
  const client = observer.instrumentClient(new ProviderClient({ dispatcher: agent }));
  const store =
    config.endpoints === undefined
      ? 'memory'
      : isRedisUrl(config.endpoints)
        ? redactRedisUrl(config.endpoints)
        : config.endpoints;
  let server;
  try {
    server = await startInferenceServer({
      host: config.host,
      port: config.port,
      registry,
      client,
      demo: config.demo,
      bom: config.bom,
      onDisconnect: config.drain ? 'drain' : 'abort',
      apiKeys,
      allowHosts: config.allowHosts.length > 0 ? config.allowHosts : null,
      onWarning: (message) => log.warn({ event: 'warning', reason: message }, 'warning'),
      limits: config.limits,
      ...(config.retries === undefined ? {} : { retry: { maxAttempts: config.retries + 1 } }),
      ...(config.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: config.shutdownGraceMs }),
      onRequest: observer.onRequest,
      onDelta: observer.onDelta,
      onError: observer.onError,
      metrics: worker
        ? askPrimaryForMetrics
        : async () => ({ text: await metrics.text(), contentType: metrics.contentType }),
      nodeInfo: { clusterUuid: clusterUuidFor(`inference-stream ${store}`) },
    });
  } catch (err) {
    observer.close();
    await closeRegistry(registry);
    await agent.destroy();
    const e = err as NodeJS.ErrnoException;
    const listen = e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL';
    return fail(listen ? `cannot listen on ${config.host}:${config.port}: ${e.message}` : e.message);
  }
  log.info(
    { event: 'start', url: server.url, endpoints: store, registry_size: registryView?.size, workers: config.workers },
    worker ? 'worker listening' : 'listening',
  );
  if (worker) process.send!({ t: 'is:listening', url: server.url });
  else io.stdout.write(`listening on ${server.url}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // a second signal (e.g. npm relaying the one sent to the process group) must not skip the graceful close
        log.info({ event: 'signal_ignored', signal }, 'already stopping');
        return;
      }
      stopping = true;
      log.info({ event: 'stop', signal, open_streams: observer.activeStreams }, 'stopping');
      // the close is bounded by grace + 0.5 s; this is the backstop should anything else hang
      setTimeout(
        () => {
          log.error({ event: 'stop_timeout' }, 'shutdown took too long; exiting');
          log.flush();
          process.exit(1);
        },
        (config.shutdownGraceMs ?? DEFAULT_GRACE_MS) + 900,
      ).unref();
      server.close().then(
        async () => {
          await agent.destroy();
          observer.close();
          await closeRegistry(registry);
          log.info({ event: 'stopped' }, 'stopped');
          log.flush();
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          if (worker && process.connected) process.disconnect();
          resolve(0);
        },
        () => resolve(1),
      );
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    // a worker whose primary is gone stops too
    if (worker) process.once('disconnect', () => stop('primary gone'));
  });
}

/** The primary: owns a memory or file registry for its workers, restarts dead workers, drains them all on SIGTERM. */
async function runPrimary(config: ServeConfig, io: CliIo): Promise<number> {
  const log = await createLogger({
    level: config.logLevel,
    format: config.logFormat,
    stderr: io.stderr === process.stderr ? undefined : io.stderr,
    base: { role: 'primary' },
  });
  if (io.stderr === process.stderr) routeProcessOutput(log);
  try {
    SecretBox.fromEnv();
  } catch (err) {
    log.fatal({ event: 'start_failed', reason: (err as Error).message }, 'cannot start');
    log.flush();
    return 1;
  }
  let host: RegistryHost | null = null;
  if (config.endpoints === undefined || !isRedisUrl(config.endpoints)) {
    // memory or file: this process owns it, every worker reads a copy (see RegistryHost)
    let owned: EndpointRegistry;
    try {
      owned = (await openRegistry(config, log, false)) ?? new MemoryRegistry();
    } catch (err) {
      log.fatal({ event: 'start_failed', reason: (err as Error).message }, 'cannot start');
      log.flush();
      return 1;
    }
    host = new RegistryHost(owned, () =>
      Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined),
    );
  }
  const wanted = config.workers;
  let listening = 0;
  let announced = false;
  let stopping = false;
  const everListened = new WeakSet<Worker>();
  const restarts: number[] = [];

  return new Promise<number>((resolve) => {
    let exitCode = 0;
    const finish = () => {
      if (Object.keys(cluster.workers ?? {}).length > 0) return;
      log.info({ event: 'stopped' }, 'stopped');
      log.flush();
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      resolve(exitCode);
    };
    const stopAll = (reason: string, code: number) => {
      if (stopping) {
        log.info({ event: 'signal_ignored', signal: reason }, 'already stopping');
        return;
      }
      stopping = true;
      exitCode = code;
      log.info({ event: 'stop', signal: reason, workers: Object.keys(cluster.workers ?? {}).length }, 'stopping');
      const graceMs = config.shutdownGraceMs ?? DEFAULT_GRACE_MS;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      // a worker ends its streams within twice the grace period (finish, then end with an error event)
      const killer = setTimeout(
        () => {
          for (const w of Object.values(cluster.workers ?? {})) {
            log.error(
              { event: 'worker_killed', worker: w?.id, pid: w?.process.pid },
              'worker did not stop within the grace period',
            );
            w?.process.kill('SIGKILL');
          }
        },
        2 * graceMs + 1000,
      );
      killer.unref();
      finish();
    };
    const onTerm = () => stopAll('SIGTERM', 0);
    const onInt = () => stopAll('SIGINT', 0);
    const onMessage = (worker: Worker, m: { t?: string; id?: number; url?: string }) => {
      if (host?.handle(worker, m)) return;
      if (m?.t === 'is:listening') {
        everListened.add(worker);
        listening++;
        if (!announced && listening >= wanted) {
          announced = true;
          io.stdout.write(`listening on ${m.url}\n`);
          log.info(
            {
              event: 'start',
              url: m.url,
              workers: wanted,
              endpoints:
                config.endpoints === undefined
                  ? 'memory'
                  : isRedisUrl(config.endpoints)
                    ? redactRedisUrl(config.endpoints)
                    : config.endpoints,
            },
            'listening',
          );
        }
      } else if (m?.t === 'is:metrics') {
        clusterMetricsText().then(
          (r) => worker.isConnected() && worker.send({ t: 'is:metrics:res', id: m.id, ...r }),
          (err: Error) => worker.isConnected() && worker.send({ t: 'is:metrics:res', id: m.id, error: err.message }),
        );
      }
    };
    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      if (everListened.has(worker)) listening--;
      if (stopping) return finish();
      if (!everListened.has(worker) && !announced) {
        // a worker that cannot start (port taken, bad configuration) will not start when forked again
        log.fatal(
          { event: 'worker_failed', worker: worker.id, pid: worker.process.pid, code, signal },
          'a worker could not start',
        );
        return stopAll('worker failed', 1);
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0]! < now - 10_000) restarts.shift();
      const delay = restarts.length > 5 ? 1000 : 0;
      log.error(
        { event: 'worker_exit', worker: worker.id, pid: worker.process.pid, code, signal, restart_in_ms: delay },
        'worker died; starting another',
      );
      setTimeout(() => {
        if (stopping) return;
        const next = cluster.fork();
        log.info({ event: 'worker_started', worker: next.id, pid: next.process.pid }, 'worker started');
      }, delay).unref();
    };
    cluster.on('message', onMessage);
    cluster.on('exit', onExit);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    for (let i = 0; i < wanted; i++) cluster.fork();
  });
}
