import { mapSettings, modelOf, need, resolveUrl, text } from './settings.js';
import type { ProviderRequest, RequestInput, ServiceDefinition } from './types.js';

/** Gemini's `generateContent` body for one user message. */
function geminiBody(input: RequestInput): string {
  const generationConfig = mapSettings(input.taskSettings, {
    max_tokens: 'maxOutputTokens',
    temperature: 'temperature',
    top_p: 'topP',
    top_k: 'topK',
    stop: 'stopSequences',
  });
  generationConfig.candidateCount = 1;
  return JSON.stringify({ contents: [{ role: 'user', parts: [{ text: input.input }] }], generationConfig });
}

/** Google AI Studio: key in `x-goog-api-key` (kept out of the URL, unlike ES's `?key=`), `alt=sse`. */
export const googleAiStudio: ServiceDefinition = {
  id: 'googleaistudio',
  required: ['api_key', 'model_id'],
  build(input): ProviderRequest {
    const { endpoint } = input;
    const model = encodeURIComponent(modelOf(endpoint) ?? '');
    return {
      url: resolveUrl(endpoint, `https://generativelanguage.googleapis.com/v1beta/models/${model}:streamGenerateContent?alt=sse`),
      headers: { 'x-goog-api-key': need(endpoint, 'api_key'), 'content-type': 'application/json', accept: 'text/event-stream' },
      body: geminiBody(input),
    };
  },
};

/** Vertex AI Gemini: the regional `streamGenerateContent?alt=sse` URL, a service-account bearer token. */
export const googleVertexAi: ServiceDefinition = {
  id: 'googlevertexai',
  required: ['service_account_json', 'project_id', 'location', 'model_id'],
  async build(input, auth): Promise<ProviderRequest> {
    const { endpoint } = input;
    const location = need(endpoint, 'location');
    const project = encodeURIComponent(need(endpoint, 'project_id'));
    const host = location === 'global' ? 'aiplatform.googleapis.com' : `${location}-aiplatform.googleapis.com`;
    const model = encodeURIComponent(modelOf(endpoint) ?? '');
    const url = resolveUrl(
      endpoint,
      text(endpoint.service_settings, 'streaming_url') ??
        `https://${host}/v1/projects/${project}/locations/${encodeURIComponent(location)}/publishers/google/models/${model}:streamGenerateContent?alt=sse`,
    );
    const token = await auth.googleAccessToken(endpoint);
    return {
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: geminiBody(input),
    };
  },
};
