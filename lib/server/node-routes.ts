import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { errorBody, internalError, methodNotAllowed, SecurityError } from '../errors.js';
import { checkAccess, securityErrorBody, securityHeaders } from './access.js';
import type { ApiKeys } from './api-keys.js';
import { jsonTypeFor, sendJson, type ResponseContext } from './respond.js';

/**
 * The Elasticsearch version this server reports at `GET /`. The inference API it mirrors is
 * the 9.x one (empty `task_settings` omitted, `indexes` in DELETE answers, `_stream` for
 * `chat_completion`), and the official 9.x clients check the major version they talk to.
 */
export const REPORTED_ES_VERSION = '9.1.0';

/** What `GET /` says about this node. */
export interface NodeInfo {
  /** Node name; default the host name. */
  name?: string;
  /** Default `inference-stream`. */
  clusterName?: string;
  /** Stable per fleet: default derived from the cluster name and the shared registry's address. */
  clusterUuid?: string;
}

/** What the node routes need: access control, the product header, the node's identity and the metrics source. */
export interface NodeRoutesOptions {
  apiKeys: ApiKeys | null;
  productHeader: boolean;
  info?: NodeInfo;
  /** `GET /_prometheus/metrics`: the Prometheus text (aggregated over workers when there are). Absent: no metrics route. */
  metrics?: (() => Promise<{ text: string; contentType: string }>) | undefined;
}

/** A uuid-shaped, base64url id as Elasticsearch prints `cluster_uuid` (22 characters), stable for a seed. */
export function clusterUuidFor(seed: string): string {
  return createHash('sha256').update(seed).digest('base64url').slice(0, 22);
}

/**
 * The routes of an Elasticsearch node that are not `_inference`: `GET`/`HEAD /` (what
 * clients call to ping or `info()` before anything else) and `GET /_prometheus/metrics`.
 * Returns a function that answers such a request and returns true, or returns false for
 * any other request. Both need a key when keys are set (monitor_inference for metrics).
 */
export function createNodeRoutes(options: NodeRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const name = options.info?.name ?? hostname();
  const clusterName = options.info?.clusterName ?? 'inference-stream';
  const root = {
    name,
    cluster_name: clusterName,
    cluster_uuid: options.info?.clusterUuid ?? clusterUuidFor(clusterName),
    version: {
      number: REPORTED_ES_VERSION,
      build_flavor: 'default',
      build_type: 'inference-stream',
      build_hash: 'unknown',
      build_date: '2025-07-22T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '10.2.2',
      minimum_wire_compatibility_version: '8.19.0',
      minimum_index_compatibility_version: '8.0.0',
    },
    tagline: 'You Know, for Search',
  };
  const rootText = JSON.stringify(root);

  return (req, res) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const isRoot = path === '/';
    const isMetrics = path === '/_prometheus/metrics' && options.metrics !== undefined;
    if (!isRoot && !isMetrics) return false;
    const method = (req.method ?? 'GET').toUpperCase();
    req.resume();
    const ctx: ResponseContext = { productHeader: options.productHeader, jsonType: jsonTypeFor(req), bom: false };
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(res, ctx, 405, errorBody(methodNotAllowed(path, method, ['GET', 'HEAD'])), { allow: 'GET, HEAD' });
      return true;
    }
    try {
      checkAccess(options.apiKeys, req.headers.authorization, 'GET', raw);
    } catch (err) {
      if (!(err instanceof SecurityError)) throw err;
      sendJson(res, ctx, err.status, securityErrorBody(err), securityHeaders(err));
      return true;
    }
    if (isRoot) {
      if (method === 'HEAD') {
        res.writeHead(200, {
          'content-type': ctx.jsonType,
          'content-length': String(Buffer.byteLength(rootText)),
          ...(ctx.productHeader ? { 'x-elastic-product': 'Elasticsearch' } : {}),
        });
        res.end();
      } else {
        sendJson(res, ctx, 200, root);
      }
      return true;
    }
    options.metrics!().then(
      ({ text, contentType }) => {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(200, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
        res.end(method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        sendJson(res, ctx, 500, errorBody(internalError('Metrics could not be collected', err)));
      },
    );
    return true;
  };
}
