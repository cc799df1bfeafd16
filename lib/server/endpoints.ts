import { getProvider, isProviderId, providerIds } from '../providers/index.js';
import { badRequest, bodyRequired, endpointExists, endpointNotFound, invalidInferenceId, unknownTaskType, validationFailed } from '../errors.js';
import { isObject } from '../json.js';
import { publicEndpoint, type EndpointRegistry, type PutOptions, type StoredEndpoint } from '../registry/types.js';
import { TASK_TYPES } from './routes.js';

const PUT_FIELDS = new Set(['service', 'service_settings', 'task_settings', 'chunking_settings', 'task_type']);
const VALID_ID = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;

/** PUT: validates as Elasticsearch does (without calling the provider) and stores. */
export async function putEndpoint(
  registry: EndpointRegistry,
  urlTaskType: string | null,
  inferenceId: string,
  body: unknown,
  putOptions: PutOptions = {},
): Promise<Record<string, unknown>> {
  if (!isObject(body)) throw bodyRequired();
  for (const key of Object.keys(body)) {
    if (!PUT_FIELDS.has(key)) throw badRequest(`Model configuration contains settings [${key}] unknown to the inference endpoint configuration`);
  }
  if (!VALID_ID.test(inferenceId)) {
    throw invalidInferenceId(inferenceId);
  }
  const taskType = resolveTaskType(urlTaskType, body.task_type);
  const service = body.service;
  if (service === undefined || service === null) throw badRequest('Inference endpoint configuration is missing the [service] setting');
  if (!isProviderId(service)) {
    throw badRequest(`Unknown service [${String(service)}]; known services: [${providerIds().join(', ')}]`);
  }
  const serviceSettings = body.service_settings ?? {};
  const taskSettings = body.task_settings ?? {};
  if (!isObject(serviceSettings)) throw badRequest('[service_settings] must be an object');
  if (!isObject(taskSettings)) throw badRequest('[task_settings] must be an object');
  const definition = getProvider(service);
  const problems: string[] = [];
  for (const key of definition.required) {
    const v = serviceSettings[key];
    if (typeof v !== 'string' || v.length === 0) problems.push(`[service_settings] does not contain the required setting [${key}]`);
  }
  if (definition.oneOf && !definition.oneOf.some((k) => typeof serviceSettings[k] === 'string' && serviceSettings[k] !== '')) {
    problems.push(`[service_settings] must contain one of [${definition.oneOf.join(', ')}]`);
  }
  if (typeof serviceSettings.url === 'string') {
    try {
      new URL(serviceSettings.url);
    } catch {
      problems.push(`[service_settings] Invalid url [${serviceSettings.url}] received for field [url]`);
    }
  }
  if (problems.length > 0) {
    throw validationFailed(problems);
  }
  const endpoint: StoredEndpoint = {
    inference_id: inferenceId,
    task_type: taskType,
    service,
    service_settings: { ...serviceSettings },
    task_settings: { ...taskSettings },
  };
  if (!(await registry.put(endpoint, putOptions))) {
    throw endpointExists(inferenceId);
  }
  return publicEndpoint(endpoint);
}

/** URL and body task types, reconciled as ServiceUtils.resolveTaskType does. */
function resolveTaskType(urlTaskType: string | null, bodyTaskType: unknown): string {
  const fromUrl = urlTaskType === null || urlTaskType === 'any' ? null : urlTaskType;
  if (bodyTaskType !== undefined && bodyTaskType !== null) {
    if (typeof bodyTaskType !== 'string' || !TASK_TYPES.has(bodyTaskType)) throw unknownTaskType(String(bodyTaskType));
    if (bodyTaskType === 'any') throw badRequest('task_type [any] is not valid type for inference');
    if (fromUrl !== null && fromUrl !== bodyTaskType) {
      throw badRequest(`Cannot resolve conflicting task_type parameter in the request URL [${fromUrl}] and the request body [${bodyTaskType}]`);
    }
    return bodyTaskType;
  }
  if (fromUrl === null) throw badRequest('model is missing required setting [task_type]');
  return fromUrl;
}

function checkTaskType(endpoint: StoredEndpoint, taskType: string | null): void {
  if (taskType !== null && taskType !== 'any' && taskType !== endpoint.task_type) {
    throw badRequest(`Requested task type [${taskType}] does not match the inference endpoint's task type [${endpoint.task_type}]`);
  }
}

export async function getEndpoints(registry: EndpointRegistry, taskType: string | null, inferenceId: string | null): Promise<{ endpoints: unknown[] }> {
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

export async function deleteEndpoint(registry: EndpointRegistry, taskType: string | null, inferenceId: string): Promise<unknown> {
  const endpoint = await registry.get(inferenceId);
  if (!endpoint) throw endpointNotFound(inferenceId);
  checkTaskType(endpoint, taskType);
  if (!(await registry.delete(inferenceId))) throw endpointNotFound(inferenceId);
  return { acknowledged: true, pipelines: [], indexes: [] };
}
