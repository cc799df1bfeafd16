import type { JWT } from 'google-auth-library';
import { incompleteStream, providerAuthFailed, safeMessage } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { JsonLines, parseEventJsonLines } from './common.js';
import { isObject } from '../json.js';
import { defineProvider } from './define.js';
import {
  anthropicError,
  anthropicEvent,
  anthropicMessagesBody,
  AnthropicState,
} from './dialects/anthropic-messages.js';
import { geminiBody, GeminiStream, geminiError } from './dialects/gemini.js';
import { jsonHeaders, keyOf, modelOf, need, resolveUrl, text } from './settings.js';
import type { StoredEndpoint } from '../registry/types.js';
import type { DeltaObject, EventNormalizer, ProviderRequest, RequestContext, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { geminiChatBody } from './chat/gemini.js';
import { anthropicChatBody } from './chat/anthropic.js';
import { googleWords } from './failure.js';

const ID = 'googlevertexai';

/**
 * Vertex AI serves Gemini chunks (`streamGenerateContent`, no end marker) and, for Model
 * Garden Anthropic models (`streamRawPredict`), Anthropic Messages events (`message_stop`
 * ends them). The first event decides which one this stream is: Anthropic events carry a
 * `type`, Gemini chunks do not.
 */
class VertexNormalizer implements EventNormalizer {
  private shape: 'gemini' | 'anthropic' | undefined;
  private readonly gemini = new GeminiStream(ID);
  private readonly anthropic = new AnthropicState();

  frame(frame: Frame, out: DeltaObject[]): void {
    const json = parseEventJsonLines(frame);
    if (json instanceof JsonLines) {
      for (const value of json.values) this.value(frame, value, out);
      return;
    }
    this.value(frame, json, out);
  }

  private value(frame: Frame, json: unknown, out: DeltaObject[]): void {
    if (frame.event === 'error' && !isObject(json)) throw anthropicError(ID, json, frame.data); // whatever its payload
    this.shape ??= shapeOf(json);
    if (this.shape === 'gemini') {
      this.gemini.value(json, out);
    } else if (this.shape === 'anthropic' && isObject(json)) {
      // Vertex's own errors keep Google's shape (raw JSON, no `type`) whatever the model.
      if (json.type === undefined && isObject(json.error)) throw geminiError(ID, json.error);
      anthropicEvent(ID, json, frame.event, out, this.anthropic);
    }
  }

  end(out: DeltaObject[], truncated?: boolean): void {
    if (this.shape === 'anthropic') {
      if (!this.anthropic.done) throw incompleteStream(`The [${ID}] stream ended before its message_stop event`);
      return;
    }
    this.gemini.end(out, truncated);
  }
}

function shapeOf(json: unknown): 'gemini' | 'anthropic' | undefined {
  if (Array.isArray(json)) return 'gemini';
  if (!isObject(json)) return undefined;
  if (typeof json.type === 'string') return 'anthropic';
  if (
    json.candidates !== undefined ||
    json.usageMetadata !== undefined ||
    json.promptFeedback !== undefined ||
    json.error !== undefined
  ) {
    return 'gemini';
  }
  return undefined;
}

/** Vertex AI's version tag for Anthropic Messages bodies (it replaces `model` and the `anthropic-version` header). */
const ANTHROPIC_ON_VERTEX = 'vertex-2023-10-16';

/** A Model Garden endpoint whose `provider` is Anthropic: Messages bodies to `streamRawPredict`. */
function isAnthropic(endpoint: StoredEndpoint): boolean {
  return text(endpoint.service_settings, 'provider')?.toLowerCase() === 'anthropic';
}

/**
 * Gemini on Vertex AI: the regional `streamGenerateContent?alt=sse` URL, a service-account
 * bearer token. With `provider: anthropic` (a Model Garden Anthropic model): the
 * `publishers/anthropic/…:streamRawPredict` URL and an Anthropic Messages body.
 */
async function request(input: RequestInput, context: RequestContext): Promise<ProviderRequest> {
  const { endpoint } = input;
  const location = need(endpoint, 'location');
  const project = encodeURIComponent(need(endpoint, 'project_id'));
  const host = location === 'global' ? 'aiplatform.googleapis.com' : `${location}-aiplatform.googleapis.com`;
  const model = encodeURIComponent(modelOf(endpoint) ?? '');
  const anthropic = isAnthropic(endpoint);
  const base = `https://${host}/v1/projects/${project}/locations/${encodeURIComponent(location)}/publishers/`;
  const url = resolveUrl(
    endpoint,
    text(endpoint.service_settings, 'streaming_url') ??
      (anthropic
        ? `${base}anthropic/models/${model}:streamRawPredict`
        : `${base}google/models/${model}:streamGenerateContent?alt=sse`),
  );
  const token = await accessToken(endpoint, context);
  const headers = jsonHeaders();
  headers.authorization = `Bearer ${token}`;
  return {
    url,
    headers,
    body: anthropic ? anthropicMessagesBody(input, { anthropic_version: ANTHROPIC_ON_VERTEX }) : geminiBody(input),
  };
}

const VERTEX_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * A Google OAuth2 access token from the endpoint's service account. The JWT client (which
 * refreshes its own tokens) is cached per client; google-auth-library is loaded on the
 * first Vertex AI request, never before.
 */
async function accessToken(endpoint: StoredEndpoint, context: RequestContext): Promise<string> {
  if (context.googleAccessToken) return context.googleAccessToken(endpoint);
  const json = text(endpoint.service_settings, 'service_account_json') ?? '';
  const selfSigned = text(endpoint.service_settings, 'url') !== undefined;
  const cacheKey = `google:${keyOf(json)}${selfSigned ? ':self-signed' : ''}`;
  let client = context.cache.get(cacheKey) as JWT | undefined;
  if (!client) {
    let account: { client_email?: unknown; private_key?: unknown };
    try {
      account = JSON.parse(json);
    } catch {
      throw providerAuthFailed(
        `[service_account_json] of inference endpoint [${endpoint.inference_id}] is not valid JSON`,
      );
    }
    if (typeof account.client_email !== 'string' || typeof account.private_key !== 'string') {
      throw providerAuthFailed(
        `[service_account_json] of inference endpoint [${endpoint.inference_id}] lacks client_email or private_key`,
      );
    }
    const { JWT } = await import('google-auth-library');
    client = new JWT({ email: account.client_email, key: account.private_key, scopes: [VERTEX_SCOPE] });
    // With a custom url the target is not Google's, so neither is the token endpoint to ask:
    // a self-signed JWT (no network call; Vertex AI accepts these too) is sent instead.
    if (selfSigned) client.useJWTAccessWithScope = true;
    context.cache.set(cacheKey, client);
  }
  try {
    const value = (await client.getRequestHeaders()).get('authorization');
    if (!value) throw new Error('no authorization header');
    return value.replace(/^Bearer /, '');
  } catch (err) {
    throw providerAuthFailed(
      `Failed to obtain a Google access token for inference endpoint [${endpoint.inference_id}]: ${safeMessage(err)}`,
    );
  }
}

/** Vertex AI: service-account tokens (google-auth-library, loaded on first use). */
export const googlevertexai = defineProvider({
  id: ID,
  description:
    'Vertex AI: Gemini streamGenerateContent SSE (raw JSON errors, ends at EOF), or with provider: anthropic, Anthropic Messages SSE (streamRawPredict)',
  required: ['service_account_json', 'project_id', 'location', 'model_id'],
  request,
  chat: (input, context) =>
    chatVia(request, input, context, (t, endpoint) =>
      isAnthropic(endpoint)
        ? {
            anthropic_version: ANTHROPIC_ON_VERTEX,
            ...anthropicChatBody(input.request, { service: t.service, model: undefined }, input.taskSettings),
          }
        : geminiChatBody(input.request, t),
    ),
  createNormalizer: () => new VertexNormalizer(),
  failureWords: googleWords('Google Vertex AI'),
  rawJson: true,
});
