import { getProvider, isProviderId, providerIds, type ProviderId } from '../providers/index.js';
import {
  badRequest,
  bodyRequired,
  endpointExists,
  endpointFieldImmutable,
  endpointNotFound,
  inferenceIdTooLong,
  invalidInferenceId,
  tooManyEndpoints,
  unknownTaskType,
  validationFailed,
} from '../errors.js';
import { isObject } from '../json.js';
import { publicEndpoint, type EndpointRegistry, type PutOptions, type StoredEndpoint } from '../registry/types.js';
import type { Limits } from './limits.js';
import { TASK_TYPES } from './routes.js';
import { URL_SETTINGS } from './redact.js';
import { urlProblem, type HostPolicy } from './url-policy.js';

const ENDPOINT_FIELDS = new Set(['service', 'service_settings', 'task_settings', 'chunking_settings', 'task_type']);
const VALID_ID = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;

/** What endpoint management needs from the handler. */
export interface EndpointContext {
  registry: EndpointRegistry;
  limits: Pick<Limits, 'maxIdLength' | 'maxEndpoints'>;
  hosts: HostPolicy;
}

/** Elasticsearch's inference id rule (MlStrings.isValidId) with this server's length limit; throws its 400. */
export function validateInferenceId(id: string, maxLength: number): void {
  if (id.length > maxLength) throw inferenceIdTooLong(id, maxLength);
  if (!VALID_ID.test(id)) throw invalidInferenceId(id);
}

/** The service's required settings and every URL setting (scheme, host allow-list); throws Elasticsearch's validation 400. */
function validateServiceSettings(service: ProviderId, settings: Record<string, unknown>, hosts: HostPolicy): void {
  const definition = getProvider(service);
  const problems: string[] = [];
  for (const key of definition.required) {
    const v = settings[key];
    if (typeof v !== 'string' || v.length === 0)
      problems.push(`[service_settings] does not contain the required setting [${key}]`);
  }
  if (definition.oneOf && !definition.oneOf.some((k) => typeof settings[k] === 'string' && settings[k] !== '')) {
    problems.push(`[service_settings] must contain one of [${definition.oneOf.join(', ')}]`);
  }
  for (const key of URL_SETTINGS) {
    if (settings[key] === undefined) continue;
    const problem = urlProblem(settings[key], key);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) {
    throw validationFailed(problems);
  }
  for (const key of URL_SETTINGS) if (typeof settings[key] === 'string') hosts.check(settings[key] as string, key);
}

/**
 * Stores an endpoint and returns the answer's JSON text. The answer is built before the
 * endpoint is stored, so nothing is stored that the client is not told about.
 */
async function store(ctx: EndpointContext, endpoint: StoredEndpoint, update: boolean): Promise<string> {
  const answer = JSON.stringify(publicEndpoint(endpoint));
  // the registry checks the count again, atomically with the write (a shared one counts the fleet);
  // an update only replaces, so one racing a DELETE cannot bring the endpoint back
  const options: PutOptions = update ? { replaceOnly: true } : { maxEndpoints: ctx.limits.maxEndpoints };
  if (!(await ctx.registry.put(endpoint, options))) {
    throw update ? endpointNotFound(endpoint.inference_id) : endpointExists(endpoint.inference_id);
  }
  return answer;
}

/** The body's `service_settings` and `task_settings` (empty when absent); each must be an object. */
function settingsOf(body: Record<string, unknown>): {
  serviceSettings: Record<string, unknown>;
  taskSettings: Record<string, unknown>;
} {
  const serviceSettings = body.service_settings ?? {};
  const taskSettings = body.task_settings ?? {};
  if (!isObject(serviceSettings)) throw badRequest('[service_settings] must be an object');
  if (!isObject(taskSettings)) throw badRequest('[task_settings] must be an object');
  return { serviceSettings, taskSettings };
}

function unknownService(service: unknown) {
  return badRequest(`Unknown service [${String(service)}]; known services: [${providerIds().join(', ')}]`);
}

/** PUT: validates as Elasticsearch does (without calling the provider) and stores. Returns the answer's JSON text. */
export async function putEndpoint(
  ctx: EndpointContext,
  urlTaskType: string | null,
  inferenceId: string,
  body: unknown,
): Promise<string> {
  if (!isObject(body)) throw bodyRequired();
  checkKnownFields(body, ENDPOINT_FIELDS);
  validateInferenceId(inferenceId, ctx.limits.maxIdLength);
  const taskType = resolveTaskType(urlTaskType, body.task_type);
  const service = body.service;
  if (service === undefined || service === null)
    throw badRequest('Inference endpoint configuration is missing the [service] setting');
  if (!isProviderId(service)) throw unknownService(service);
  const { serviceSettings, taskSettings } = settingsOf(body);
  validateServiceSettings(service, serviceSettings, ctx.hosts);
  if (
    (await ctx.registry.get(inferenceId)) === undefined &&
    (await ctx.registry.list()).length >= ctx.limits.maxEndpoints
  ) {
    throw tooManyEndpoints(ctx.limits.maxEndpoints);
  }
  return store(
    ctx,
    {
      inference_id: inferenceId,
      task_type: taskType,
      service,
      service_settings: { ...serviceSettings },
      task_settings: { ...taskSettings },
    },
    false,
  );
}

/**
 * `PUT …/<id>/_update`: changes service settings (secrets included) and task settings of an
 * existing endpoint, given keys replacing stored ones; `service` and `task_type` cannot
 * change. Returns the updated endpoint's JSON text, secrets omitted.
 */
export async function updateEndpoint(
  ctx: EndpointContext,
  urlTaskType: string | null,
  inferenceId: string,
  body: unknown,
): Promise<string> {
  if (!isObject(body)) throw bodyRequired();
  checkKnownFields(body, ENDPOINT_FIELDS);
  const current = await ctx.registry.get(inferenceId);
  if (!current) throw endpointNotFound(inferenceId);
  checkTaskType(current, urlTaskType);
  if (body.service !== undefined && body.service !== current.service)
    throw endpointFieldImmutable(inferenceId, 'service', current.service, body.service);
  if (body.task_type !== undefined && body.task_type !== current.task_type)
    throw endpointFieldImmutable(inferenceId, 'task_type', current.task_type, body.task_type);
  const { serviceSettings, taskSettings } = settingsOf(body);
  const updated: StoredEndpoint = {
    ...current,
    service_settings: { ...current.service_settings, ...serviceSettings },
    task_settings: { ...current.task_settings, ...taskSettings },
  };
  if (!isProviderId(current.service)) throw unknownService(current.service);
  validateServiceSettings(current.service, updated.service_settings, ctx.hosts);
  return store(ctx, updated, true);
}

/** URL and body task types, reconciled as ServiceUtils.resolveTaskType does. */
function resolveTaskType(urlTaskType: string | null, bodyTaskType: unknown): string {
  const fromUrl = urlTaskType === null || urlTaskType === 'any' ? null : urlTaskType;
  if (bodyTaskType !== undefined && bodyTaskType !== null) {
    if (typeof bodyTaskType !== 'string' || !TASK_TYPES.has(bodyTaskType)) throw unknownTaskType(String(bodyTaskType));
    if (bodyTaskType === 'any') throw badRequest('task_type [any] is not valid type for inference');
    if (fromUrl !== null && fromUrl !== bodyTaskType) {
      throw badRequest(
        `Cannot resolve conflicting task_type parameter in the request URL [${fromUrl}] and the request body [${bodyTaskType}]`,
      );
    }
    return bodyTaskType;
  }
  if (fromUrl === null) throw badRequest('model is missing required setting [task_type]');
  return fromUrl;
}

function checkTaskType(endpoint: StoredEndpoint, taskType: string | null): void {
  if (taskType !== null && taskType !== 'any' && taskType !== endpoint.task_type) {
    throw badRequest(
      `Requested task type [${taskType}] does not match the inference endpoint's task type [${endpoint.task_type}]`,
    );
  }
}

/** GET: one endpoint, or all of a task type, without their secrets. */
export async function getEndpoints(
  registry: EndpointRegistry,
  taskType: string | null,
  inferenceId: string | null,
): Promise<{ endpoints: unknown[] }> {
  if (inferenceId === null) {
    const all = await registry.list();
    const matching = taskType === null || taskType === 'any' ? all : all.filter((e) => e.task_type === taskType);
    return { endpoints: matching.map(publicEndpoint) };
  }
  const endpoint = await registry.get(inferenceId);
  if (!endpoint) throw endpointNotFound(inferenceId);
  checkTaskType(endpoint, taskType);
  return { endpoints: [publicEndpoint(endpoint)] };
}

/**
 * DELETE. With `dryRun` nothing is deleted: the answer says so (`acknowledged: false`) and
 * lists what would block the delete (nothing references endpoints here).
 */
export async function deleteEndpoint(
  registry: EndpointRegistry,
  taskType: string | null,
  inferenceId: string,
  dryRun = false,
): Promise<unknown> {
  const endpoint = await registry.get(inferenceId);
  if (!endpoint) throw endpointNotFound(inferenceId);
  checkTaskType(endpoint, taskType);
  if (dryRun) return { acknowledged: false, pipelines: [], indexes: [] };
  if (!(await registry.delete(inferenceId))) throw endpointNotFound(inferenceId);
  return { acknowledged: true, pipelines: [], indexes: [] };
}

/** Every top-level key of an endpoint body must be one the route knows (Elasticsearch's wording). */
function checkKnownFields(body: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) {
    if (!known.has(key))
      throw badRequest(
        `Model configuration contains settings [${key}] unknown to the inference endpoint configuration`,
      );
  }
}
