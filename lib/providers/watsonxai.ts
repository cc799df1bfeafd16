import { incompleteStream, providerAuthFailed, providerStreamError, safeMessage } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { noMessage, parseEventJson, statusForErrorWord, str } from './common.js';
import { isObject, type Json } from '../json.js';
import { defineProvider } from './define.js';
import { chatBody, isDone, openAiChunk, openAiStreamError, OpenAiChatState } from './dialects/openai-chat.js';
import { jsonHeaders, keyOf, need, resolveUrl, text } from './settings.js';
import { isWatsonxGeneration, watsonxGenerationEvent } from './dialects/watsonx-generation.js';
import { undici } from './undici.js';
import type { DeltaObject, EventNormalizer, ProviderRequest, RequestContext, RequestInput } from './types.js';
import { chatVia } from './chat/target.js';
import { watsonxChatBody } from './chat/watsonx.js';
import { watsonxWords } from './failure.js';

const ID = 'watsonxai';

/**
 * watsonx.ai `chat_stream` (OpenAI-like chunks, no `[DONE]`, a `choices: []` usage chunk
 * last) and `generation_stream` (`results[0].generated_text`), both framed as
 * `id:` / `event: message` / `data:`; each event says which by its own keys, and
 * `data: {}` carries nothing. Neither has a sentinel, so the end marker is the
 * generation's last `stop_reason` (anything but `not_finished`) or a chat finish_reason;
 * EOF before it is an incomplete stream.
 */
class WatsonxNormalizer implements EventNormalizer {
  private readonly state = new OpenAiChatState();
  private complete = false;

  frame(frame: Frame, out: DeltaObject[]): void {
    // Not sent by watsonx itself; an OpenAI-style gateway in front of it may add one.
    if (isDone(frame.data)) {
      this.complete = true;
      return;
    }
    const json = parseEventJson(frame);
    if (!isObject(json)) {
      // `event: error` is an error whatever its payload.
      if (frame.event === 'error')
        throw providerStreamError(ID, typeof json === 'string' ? json : noMessage(ID, frame.data));
      return;
    }
    if (isObject(json.error)) throw openAiStreamError(ID, json.error, frame.data);
    if (Array.isArray(json.errors) || frame.event === 'error') throw watsonxError(json, frame.data);
    if (isWatsonxGeneration(json)) {
      if (watsonxGenerationEvent(ID, json, out)) this.complete = true;
    } else if (openAiChunk(json, out, this.state) !== undefined) {
      this.complete = true;
    }
  }

  end(_out: DeltaObject[]): void {
    if (!this.complete) throw incompleteStream(`The [${ID}] stream ended before a finish_reason or final stop_reason`);
  }
}

/** `{"errors":[{"code","message","more_info"}],"trace","status_code"}` inside a 200 stream. */
function watsonxError(json: Json, data: string) {
  const first = Array.isArray(json.errors) && isObject(json.errors[0]) ? json.errors[0] : json;
  const message = str(first.message) ?? noMessage(ID, data);
  const status = typeof json.status_code === 'number' ? json.status_code : statusForErrorWord(first.code);
  return providerStreamError(ID, message, status);
}

/**
 * The chat stream. `url` is the region's base URL (required, as in Elasticsearch). On IBM
 * Cloud hosts the API key is exchanged for an IAM token; any other host (watsonx software,
 * a test server) gets the key itself as the bearer token.
 */
async function request(input: RequestInput, context: RequestContext): Promise<ProviderRequest> {
  const { endpoint } = input;
  const base = new URL(need(endpoint, 'url'));
  const version = encodeURIComponent(need(endpoint, 'api_version'));
  const url = base.pathname.includes('/ml/v1/')
    ? base.href
    : resolveUrl(endpoint, `${base.origin}/ml/v1/text/chat_stream?version=${version}`);
  const key = need(endpoint, 'api_key');
  const token = base.hostname.endsWith('cloud.ibm.com') ? await ibmIamToken(key, context) : key;
  const body: Record<string, unknown> = { model_id: need(endpoint, 'model_id') };
  const project = text(endpoint.service_settings, 'project_id');
  if (project) body.project_id = project;
  const chat = chatBody(input);
  delete chat.n;
  delete chat.stream;
  const headers = jsonHeaders();
  headers.authorization = `Bearer ${token}`;
  return { url, headers, body: JSON.stringify({ ...body, ...chat }) };
}

interface IamToken {
  token: string;
  expiresAt: number;
}

/** An IBM Cloud IAM token for an API key, cached per client until a minute before it expires. */
async function ibmIamToken(apiKey: string, context: RequestContext): Promise<string> {
  if (context.ibmIamToken) return context.ibmIamToken(apiKey);
  const cacheKey = `ibm-iam:${keyOf(apiKey)}`;
  const cached = context.cache.get(cacheKey) as IamToken | undefined;
  if (cached && cached.expiresAt > Date.now() + 60_000) return cached.token;
  const url = context.ibmIamUrl ?? 'https://iam.cloud.ibm.com/identity/token';
  const res = await undici()
    .request(url, {
      dispatcher: context.dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: apiKey }).toString(),
    })
    .catch((err: unknown) => {
      throw providerAuthFailed(`Failed to reach the IBM Cloud IAM token endpoint: ${safeMessage(err)}`);
    });
  const data = (await res.body.json().catch(() => ({}))) as { access_token?: unknown; expiration?: unknown };
  if (res.statusCode !== 200 || typeof data.access_token !== 'string') {
    throw providerAuthFailed(`IBM Cloud IAM refused the API key with status [${res.statusCode}]`);
  }
  const expiresAt = typeof data.expiration === 'number' ? data.expiration * 1000 : Date.now() + 30 * 60_000;
  context.cache.set(cacheKey, { token: data.access_token, expiresAt } satisfies IamToken);
  return data.access_token;
}

/** IBM watsonx.ai: IAM token (IBM Cloud) or the key as bearer. */
export const watsonxai = defineProvider({
  id: ID,
  description:
    'IBM watsonx.ai chat_stream (OpenAI-like chunks, no [DONE]) or generation_stream (results[0].generated_text) SSE',
  required: ['api_key', 'url', 'api_version', 'model_id'],
  request,
  chat: (input, context) =>
    chatVia(request, input, context, (t, endpoint) =>
      watsonxChatBody(input.request, t, text(endpoint.service_settings, 'project_id')),
    ),
  createNormalizer: () => new WatsonxNormalizer(),
  failureWords: watsonxWords,
});
