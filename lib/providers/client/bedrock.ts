import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { mapSettings, modelOf, need, resolveUrl, text } from './settings.js';
import type { ProviderRequest, ServiceDefinition } from './types.js';

/** Amazon Bedrock ConverseStream, signed with SigV4 (service `bedrock`) by @smithy/signature-v4. */
export const amazonBedrock: ServiceDefinition = {
  id: 'amazonbedrock',
  required: ['access_key', 'secret_key', 'region', 'model'],
  async build(input): Promise<ProviderRequest> {
    const { endpoint } = input;
    const region = need(endpoint, 'region');
    const model = modelOf(endpoint) ?? '';
    const url = new URL(resolveUrl(endpoint, `https://bedrock-runtime.${region}.amazonaws.com/model/${encodeURIComponent(model)}/converse-stream`));
    const inferenceConfig = mapSettings(input.taskSettings, { max_new_tokens: 'maxTokens', max_tokens: 'maxTokens', temperature: 'temperature', top_p: 'topP', stop: 'stopSequences' });
    const body: Record<string, unknown> = { messages: [{ role: 'user', content: [{ text: input.input }] }] };
    if (Object.keys(inferenceConfig).length > 0) body.inferenceConfig = inferenceConfig;
    if (input.taskSettings.top_k !== undefined) body.additionalModelRequestFields = { top_k: input.taskSettings.top_k };
    const payload = JSON.stringify(body);
    const signer = new SignatureV4({
      service: 'bedrock',
      region,
      sha256: Sha256,
      credentials: {
        accessKeyId: need(endpoint, 'access_key'),
        secretAccessKey: need(endpoint, 'secret_key'),
        ...(text(endpoint.service_settings, 'session_token') ? { sessionToken: text(endpoint.service_settings, 'session_token')! } : {}),
      },
    });
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: {
        host: url.host,
        'content-type': 'application/json',
        accept: 'application/vnd.amazon.eventstream',
      },
      body: payload,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = String(v);
    return { url: url.href, headers, body: payload };
  },
};
