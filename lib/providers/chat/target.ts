import type { StoredEndpoint } from '../../registry/types.js';
import { modelOf } from '../settings.js';
import type { ChatInput, ProviderRequest, RequestContext, RequestInput } from '../types.js';
import type { ChatTarget } from './openai.js';

/** The endpoint as the chat request sees it: the request's `model` in place of the endpoint's. */
export function chatEndpoint(input: ChatInput): StoredEndpoint {
  const model = input.request.model;
  if (model === undefined) return input.endpoint;
  return { ...input.endpoint, service_settings: { ...input.endpoint.service_settings, model_id: model, model } };
}

/** What the chat translators need: the service, and the model the request asks for. */
export function chatTarget(input: ChatInput): ChatTarget {
  return { service: input.endpoint.service, model: input.request.model ?? modelOf(input.endpoint) };
}

/**
 * A chat request through a provider's own request builder: the builder gives the URL and
 * headers (auth included) for the endpoint with the request's model, and `body` the chat
 * body in the provider's API. For providers whose URL and headers do not depend on the body
 * (every one but Bedrock, which signs the body and builds its chat request itself).
 */
export async function chatVia(
  request: (input: RequestInput, context: RequestContext) => ProviderRequest | Promise<ProviderRequest>,
  input: ChatInput,
  context: RequestContext,
  body: (target: ChatTarget, endpoint: StoredEndpoint) => Record<string, unknown>,
): Promise<ProviderRequest> {
  const endpoint = chatEndpoint(input);
  // the body is built first: a request the provider cannot take fails before any credential work
  const chat = JSON.stringify(body(chatTarget(input), endpoint));
  const base = await request({ endpoint, input: '', taskSettings: input.taskSettings }, context);
  // what the base request tells its reader (DashScope: incremental text) holds for the chat body too
  return base.readerOptions
    ? { url: base.url, headers: base.headers, body: chat, readerOptions: base.readerOptions }
    : { url: base.url, headers: base.headers, body: chat };
}
