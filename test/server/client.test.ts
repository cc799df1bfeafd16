// The provider request each service builds: URL, auth, body; SigV4 for Bedrock,
// service-account tokens for Vertex AI, IAM tokens for watsonx.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { type StoredEndpoint } from '../../lib/index.js';
import {
  getProvider,
  ProviderClient,
  providerIds,
  sharedAgent,
  type ProviderId,
  type RequestContext,
} from '../../lib/stages.js';
import { fakeProvider, settingsFor, testServiceAccount, TEST_SECRETS } from './helpers.js';

const client = new ProviderClient();

function endpoint(
  service: string,
  settings: Record<string, unknown>,
  task: Record<string, unknown> = {},
): StoredEndpoint {
  return {
    inference_id: `t-${service}`,
    task_type: 'completion',
    service,
    service_settings: settings,
    task_settings: task,
  };
}

/** The settings of helpers.settingsFor without `url`: the public endpoint is used. */
function publicSettings(service: string): Record<string, unknown> {
  const { url: _url, ...rest } = settingsFor(service, 'http://127.0.0.1:1');
  if (service === 'azureaistudio') rest.target = 'https://my-model.eastus2.models.ai.azure.com/v1/chat/completions';
  if (service === 'watsonxai') rest.url = 'https://us-south.ml.cloud.ibm.com';
  if (service === 'hugging_face') rest.url = 'https://router.huggingface.co/v1/chat/completions';
  return rest;
}

describe('provider requests', () => {
  const expected: Record<string, { url: string | RegExp; auth: [string, string | RegExp]; body: (b: any) => void }> = {
    openai: {
      url: 'https://api.openai.com/v1/chat/completions',
      auth: ['authorization', 'Bearer sk-test-secret'],
      body: (b) => {
        assert.equal(b.model, 'gpt-4o-mini');
        assert.deepEqual(b.messages, [{ role: 'user', content: 'Hi there' }]);
        assert.equal(b.stream, true);
        assert.deepEqual(b.stream_options, { include_usage: true });
        assert.equal(b.max_completion_tokens, 64);
        assert.equal(b.temperature, 0.3);
      },
    },
    azureopenai: {
      url: 'https://res.openai.azure.com/openai/deployments/dep/chat/completions?api-version=2024-10-21',
      auth: ['api-key', 'az-test-secret'],
      body: (b) => {
        assert.equal(b.model, undefined);
        assert.equal(b.max_tokens, 64);
      },
    },
    azureaistudio: {
      url: 'https://my-model.eastus2.models.ai.azure.com/v1/chat/completions',
      auth: ['authorization', 'aas-test-secret'],
      body: (b) => {
        assert.deepEqual(b.messages, [{ content: 'Hi there', role: 'user' }]);
        assert.deepEqual(b.parameters, { temperature: 0.3, max_new_tokens: 64 });
        assert.equal(b.stream, true);
      },
    },
    anthropic: {
      url: 'https://api.anthropic.com/v1/messages',
      auth: ['x-api-key', 'sk-ant-test-secret'],
      body: (b) => {
        assert.equal(b.model, 'claude-sonnet-4-5');
        assert.equal(b.max_tokens, 64);
        assert.equal(b.stream, true);
        assert.deepEqual(b.messages, [{ role: 'user', content: 'Hi there' }]);
      },
    },
    cohere: {
      url: 'https://api.cohere.com/v1/chat',
      auth: ['authorization', 'Bearer co-test-secret'],
      body: (b) => {
        assert.equal(b.message, 'Hi there');
        assert.equal(b.model, 'command-r');
        assert.equal(b.stream, true);
      },
    },
    googleaistudio: {
      url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
      auth: ['x-goog-api-key', 'goog-test-secret'],
      body: (b) => {
        assert.deepEqual(b.contents, [{ role: 'user', parts: [{ text: 'Hi there' }] }]);
        assert.deepEqual(b.generationConfig, { maxOutputTokens: 64, temperature: 0.3, candidateCount: 1 });
      },
    },
    googlevertexai: {
      url: 'https://us-central1-aiplatform.googleapis.com/v1/projects/test-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
      auth: ['authorization', 'Bearer injected-token'],
      body: (b) => assert.deepEqual(b.contents, [{ role: 'user', parts: [{ text: 'Hi there' }] }]),
    },
    watsonxai: {
      url: 'https://us-south.ml.cloud.ibm.com/ml/v1/text/chat_stream?version=2024-05-02',
      auth: ['authorization', 'Bearer iam-token'],
      body: (b) => {
        assert.equal(b.model_id, 'ibm/granite-13b-chat-v2');
        assert.equal(b.project_id, 'p1');
        assert.deepEqual(b.messages, [{ role: 'user', content: 'Hi there' }]);
      },
    },
    hugging_face: {
      url: 'https://router.huggingface.co/v1/chat/completions',
      auth: ['authorization', 'Bearer hf_test_secret'],
      body: (b) => assert.equal(b.stream, true),
    },
    amazonbedrock: {
      url: 'https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream',
      auth: [
        'authorization',
        /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
      ],
      body: (b) => {
        assert.deepEqual(b.messages, [{ role: 'user', content: [{ text: 'Hi there' }] }]);
        assert.deepEqual(b.inferenceConfig, { maxTokens: 64, temperature: 0.3 });
      },
    },
    mistral: {
      url: 'https://api.mistral.ai/v1/chat/completions',
      auth: ['authorization', 'Bearer mis-test-secret'],
      body: (b) => assert.equal(b.model, 'mistral-small-latest'),
    },
    deepseek: {
      url: 'https://api.deepseek.com/chat/completions',
      auth: ['authorization', 'Bearer ds-test-secret'],
      body: (b) => assert.equal(b.model, 'deepseek-chat'),
    },
    alibabacloud: {
      url: 'https://dashscope-intl.aliyuncs.com/api/v1/services/aigc/text-generation/generation',
      auth: ['authorization', 'Bearer ali-test-secret'],
      body: (b) => {
        assert.equal(b.model, 'qwen-plus');
        assert.deepEqual(b.input, { messages: [{ role: 'user', content: 'Hi there' }] });
        assert.equal(b.parameters.incremental_output, true);
      },
    },
    ollama: {
      url: 'http://localhost:11434/api/chat',
      auth: ['content-type', 'application/json'],
      body: (b) => {
        assert.equal(b.model, 'llama3.2');
        assert.deepEqual(b.options, { num_predict: 64, temperature: 0.3 });
      },
    },
  };

  test('every service has a request test', () => {
    assert.deepEqual(Object.keys(expected).sort(), [...providerIds()].sort());
  });

  for (const [service, want] of Object.entries(expected)) {
    test(service, async () => {
      const context: RequestContext = {
        dispatcher: sharedAgent(),
        cache: new Map(),
        googleAccessToken: async () => 'injected-token',
        ibmIamToken: async () => 'iam-token',
      };
      const req = await getProvider(service as ProviderId).request(
        {
          endpoint: endpoint(service, publicSettings(service)),
          input: 'Hi there',
          taskSettings: { max_tokens: 64, temperature: 0.3 },
        },
        context,
      );
      if (typeof want.url === 'string') assert.equal(req.url, want.url);
      else assert.match(req.url, want.url);
      const [header, value] = want.auth;
      if (typeof value === 'string') assert.equal(req.headers[header], value);
      else assert.match(req.headers[header] ?? '', value);
      want.body(JSON.parse(req.body));
    });
  }

  test('googlevertexai with provider anthropic: streamRawPredict, an Anthropic Messages body without model', async () => {
    const req = await getProvider('googlevertexai').request(
      {
        endpoint: endpoint('googlevertexai', {
          ...publicSettings('googlevertexai'),
          provider: 'anthropic',
          model_id: 'claude-sonnet-4-5@20250929',
        }),
        input: 'Hi there',
        taskSettings: { max_tokens: 64, temperature: 0.3 },
      },
      { dispatcher: sharedAgent(), cache: new Map(), googleAccessToken: async () => 'injected-token' },
    );
    assert.equal(
      req.url,
      'https://us-central1-aiplatform.googleapis.com/v1/projects/test-project/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5%4020250929:streamRawPredict',
    );
    assert.equal(req.headers.authorization, 'Bearer injected-token');
    assert.deepEqual(JSON.parse(req.body), {
      anthropic_version: 'vertex-2023-10-16',
      messages: [{ role: 'user', content: 'Hi there' }],
      max_tokens: 64,
      stream: true,
      temperature: 0.3,
    });
  });

  test('service_settings.url: an origin gets the default path; a full URL is used as is', async () => {
    const withOrigin = await client.build(
      endpoint('anthropic', settingsFor('anthropic', 'http://127.0.0.1:8080')),
      'x',
    );
    assert.equal(withOrigin.url, 'http://127.0.0.1:8080/v1/messages');
    const full = await client.build(endpoint('openai', settingsFor('openai', 'http://127.0.0.1:8080/proxy/chat')), 'x');
    assert.equal(full.url, 'http://127.0.0.1:8080/proxy/chat');
  });

  test("request task_settings override the endpoint's", async () => {
    const req = await client.build(
      endpoint('openai', settingsFor('openai', 'http://127.0.0.1:1/v1'), { temperature: 1, user: 'u1' }),
      'x',
      { temperature: 0 },
    );
    const body = JSON.parse(req.body);
    assert.equal(body.temperature, 0);
    assert.equal(body.user, 'u1');
  });

  test('Bedrock: the SigV4 signature verifies against the request sent', async () => {
    const settings = settingsFor('amazonbedrock', 'http://127.0.0.1:4567');
    const req = await client.build(endpoint('amazonbedrock', settings), 'Hi there');
    const url = new URL(req.url);
    assert.equal(url.pathname, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
    const amzDate = req.headers['x-amz-date']!;
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const sign = (secretAccessKey: string) =>
      new SignatureV4({
        service: 'bedrock',
        region: 'us-east-1',
        sha256: Sha256,
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey },
      }).sign(
        {
          method: 'POST',
          protocol: url.protocol,
          hostname: url.hostname,
          port: Number(url.port),
          path: url.pathname,
          query: {},
          headers: { host: url.host, 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream' },
          body: req.body,
        },
        { signingDate },
      );
    const again = await sign('bedrock-test-secret');
    assert.equal(req.headers.authorization, again.headers.authorization);
    assert.ok(!req.headers.authorization!.includes('bedrock-test-secret'));
    const other = await sign('other');
    assert.notEqual(req.headers.authorization, other.headers.authorization);
  });

  test("Vertex AI with a custom url: a self-signed service-account JWT that verifies with the account's key", async () => {
    const req = await client.build(
      endpoint('googlevertexai', settingsFor('googlevertexai', 'http://127.0.0.1:4567')),
      'Hi',
    );
    const token = req.headers.authorization!.replace(/^Bearer /, '');
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const account = JSON.parse(testServiceAccount());
    assert.equal(claims.iss, account.client_email);
    assert.equal(claims.scope, 'https://www.googleapis.com/auth/cloud-platform');
    const publicKey = createPublicKey(account.private_key);
    assert.ok(
      verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature!, 'base64url')),
    );
    assert.equal(
      req.url,
      'http://127.0.0.1:4567/v1/projects/test-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
    );
  });

  test('Vertex AI: a service account JSON that is not JSON is a 400 naming no secret', async () => {
    await assert.rejects(
      () =>
        client.build(
          endpoint('googlevertexai', {
            ...settingsFor('googlevertexai', 'http://127.0.0.1:1'),
            service_account_json: '{not json PRIVATE KEY',
          }),
          'x',
        ),
      (err: any) => err.status === 400 && /not valid JSON/.test(err.reason) && !err.reason.includes('PRIVATE KEY'),
    );
  });

  test('watsonx: the API key is exchanged for an IAM token, cached', async () => {
    const iam = await fakeProvider((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: `iam-${iam.requests.length}`,
          expiration: Math.floor(Date.now() / 1000) + 3600,
        }),
      );
    });
    try {
      const wx = new ProviderClient({ ibmIamUrl: iam.url + '/identity/token' });
      // an IBM Cloud host: the key is exchanged for a token (the IAM URL is the fake one)
      const settings = { ...settingsFor('watsonxai', 'http://127.0.0.1:1'), url: 'https://us-south.ml.cloud.ibm.com' };
      const first = await wx.build(endpoint('watsonxai', settings), 'x');
      const second = await wx.build(endpoint('watsonxai', settings), 'y');
      assert.equal(first.headers.authorization, 'Bearer iam-1');
      assert.equal(second.headers.authorization, 'Bearer iam-1');
      assert.equal(iam.requests.length, 1);
      const form = new URLSearchParams(iam.requests[0]!.body);
      assert.equal(form.get('grant_type'), 'urn:ibm:params:oauth:grant-type:apikey');
      assert.equal(form.get('apikey'), 'wx-test-secret');
    } finally {
      await iam.close();
    }
  });

  test('a missing setting names the setting, never a secret', async () => {
    const settings = { ...settingsFor('anthropic', 'http://127.0.0.1:1') };
    delete settings.api_key;
    await assert.rejects(
      () => client.build(endpoint('anthropic', settings), 'x'),
      (err: any) =>
        err.status === 400 &&
        /required setting \[api_key\]/.test(err.reason) &&
        !TEST_SECRETS.some((s) => err.reason.includes(s)),
    );
  });
});
