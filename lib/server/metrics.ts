import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { packageMissing } from '../errors.js';

/** What the registry gauges read at scrape time. */
export interface RegistryGaugeSource {
  size?: number;
  stale?: boolean;
  staleForMs?(now?: number): number;
}

/** The server's Prometheus metrics (prom-client, loaded only when metrics are asked for). */
export interface FleetMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  activeStreams: Gauge;
  deltas: Counter<'service'>;
  bytes: Counter;
  providerTtfb: Histogram<'service'>;
  streamDuration: Histogram<'service'>;
  errors: Counter<'type'>;
  retries: Counter<'service'>;
  tokens: Counter<'endpoint' | 'kind'>;
  registrySize: Gauge;
  registryStale: Gauge;
  /** The Prometheus text of this process (a worker's part, or everything without workers). */
  text(): Promise<string>;
  contentType: string;
}

/**
 * Creates the metrics. `activeStreams()` and `registry` are read at scrape time, so a request
 * pays nothing for those gauges.
 */
export async function createMetrics(sources: {
  activeStreams: () => number;
  registry?: RegistryGaugeSource | undefined;
}): Promise<FleetMetrics> {
  let prom: typeof import('prom-client');
  try {
    prom = await import('prom-client');
  } catch {
    throw packageMissing('prom-client', 'Metrics');
  }
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: 'inference_stream_' });
  const p = 'inference_stream_';
  const ttfbBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  const durationBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
  const source = sources.registry;
  const metrics: FleetMetrics = {
    registry,
    requests: new prom.Counter({
      name: `${p}http_requests_total`,
      help: 'HTTP requests answered, by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    activeStreams: new prom.Gauge({
      name: `${p}active_streams`,
      help: 'Streams open now',
      registers: [registry],
      collect() {
        this.set(sources.activeStreams());
      },
    }),
    deltas: new prom.Counter({
      name: `${p}deltas_total`,
      help: 'Delta objects sent to clients, by service',
      labelNames: ['service'],
      registers: [registry],
    }),
    bytes: new prom.Counter({
      name: `${p}response_bytes_total`,
      help: 'Bytes written to client connections',
      registers: [registry],
    }),
    providerTtfb: new prom.Histogram({
      name: `${p}provider_ttfb_seconds`,
      help: "Time until a provider's response headers arrived, by service",
      labelNames: ['service'],
      buckets: ttfbBuckets,
      registers: [registry],
    }),
    streamDuration: new prom.Histogram({
      name: `${p}stream_duration_seconds`,
      help: 'Duration of answers that sent deltas, by service',
      labelNames: ['service'],
      buckets: durationBuckets,
      registers: [registry],
    }),
    errors: new prom.Counter({
      name: `${p}errors_total`,
      help: 'Errors answered, by Elasticsearch error type',
      labelNames: ['type'],
      registers: [registry],
    }),
    retries: new prom.Counter({
      name: `${p}provider_retries_total`,
      help: 'Provider calls tried again, by service',
      labelNames: ['service'],
      registers: [registry],
    }),
    tokens: new prom.Counter({
      name: `${p}tokens_total`,
      help: 'Tokens reported by providers, by endpoint and kind (prompt, completion)',
      labelNames: ['endpoint', 'kind'],
      registers: [registry],
    }),
    registrySize: new prom.Gauge({
      name: `${p}registry_endpoints`,
      help: 'Inference endpoints known to this process',
      registers: [registry],
      // the same in every worker: the aggregate over workers is their mean, not their sum
      aggregator: 'average',
      collect() {
        if (typeof source?.size === 'number') this.set(source.size);
      },
    }),
    registryStale: new prom.Gauge({
      name: `${p}registry_stale_seconds`,
      help: 'How long the endpoint cache has been behind the shared registry (0: current)',
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.set(source?.staleForMs ? source.staleForMs() / 1000 : 0);
      },
    }),
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
  return metrics;
}

/** The primary's side of metrics over workers: asks every worker for its metrics and sums them (prom-client's AggregatorRegistry). */
export async function clusterMetricsText(): Promise<{ text: string; contentType: string }> {
  const prom = await import('prom-client');
  const aggregator = new prom.AggregatorRegistry();
  return { text: await aggregator.clusterMetrics(), contentType: aggregator.contentType };
}

/** In a worker: lets the primary's aggregator read this registry. */
export async function shareWithPrimary(metrics: FleetMetrics): Promise<void> {
  const prom = await import('prom-client');
  // constructing one installs prom-client's worker-side listener for the primary's requests
  new prom.AggregatorRegistry();
  prom.AggregatorRegistry.setRegistries([metrics.registry]);
}
