// The chat request each provider is sent, recorded by a local server and checked field by
// field against the provider's documented API; requests a provider cannot take fail with a
// 400 before any call.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderClient } from '../../lib/providers/transport.js';
import { parseChatRequest, type ChatRequest } from '../../lib/providers/chat/request.js';
import type { StoredEndpoint } from '../../lib/registry/types.js';
import { fakeProvider, settingsFor, type CapturedRequest, type FakeProvider } from '../server/helpers.js';

/** One conversation using every feature: system and developer prompts, parts, a tool round trip, tools, a named choice. */
const conversation = {
  model: 'model-from-request',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
    { role: 'user', content: 'Weather in Paris?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'And ' },
        { type: 'text', text: 'tomorrow?' },
      ],
    },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ],
  tool_choice: { type: 'function', function: { name: 'get_weather' } },
  max_completion_tokens: 256,
  stop: ['END'],
  temperature: 0.2,
  top_p: 0.9,
};
const request: ChatRequest = parseChatRequest(conversation);
const schema = conversation.tools[0]!.function.parameters;

let provider: FakeProvider;
let client: ProviderClient;
before(async () => {
  provider = await fakeProvider((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end();
  });
  client = new ProviderClient({ googleAccessToken: async () => 'vertex-token' });
});
after(() => provider.close());

function endpoint(service: string, extra: Record<string, unknown> = {}): StoredEndpoint {
  return {
    inference_id: 'chat-1',
    task_type: 'chat_completion',
    service,
    service_settings: { ...settingsFor(service, provider.url), ...extra },
    task_settings: {},
  };
}

async function sent(
  service: string,
  req: ChatRequest = request,
  extra: Record<string, unknown> = {},
): Promise<CapturedRequest & { json: Record<string, unknown> }> {
  const before = provider.requests.length;
  const up = await client.callChat(endpoint(service, extra), req);
  up.body.resume();
  await new Promise((resolve) => up.body.once('close', resolve));
  assert.equal(provider.requests.length, before + 1);
  const r = provider.requests[before]!;
  return { ...r, json: JSON.parse(r.body) as Record<string, unknown> };
}

const openAiMessages = (developer: 'developer' | 'system') => [
  { role: 'system', content: 'Be brief.' },
  { role: developer, content: [{ type: 'text', text: 'Use metric units.' }] },
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
  },
  { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'And ' },
      { type: 'text', text: 'tomorrow?' },
    ],
  },
];
const openAiTools = [{ type: 'function', function: conversation.tools[0]!.function }];
const namedChoice = { type: 'function', function: { name: 'get_weather' } };

describe('chat requests, as each provider documents them', () => {
  test('openai: passed through, developer role kept, max_completion_tokens, include_usage', async () => {
    const r = await sent('openai');
    assert.equal(r.url, '/v1/chat/completions');
    assert.equal(r.headers.authorization, 'Bearer sk-test-secret');
    assert.deepEqual(r.json, {
      model: 'model-from-request',
      messages: openAiMessages('developer'),
      max_completion_tokens: 256,
      stop: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      tools: openAiTools,
      tool_choice: namedChoice,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  test('azureopenai: the deployment route, api-key, no model in the body', async () => {
    const r = await sent('azureopenai');
    assert.equal(r.headers['api-key'], 'az-test-secret');
    assert.equal(r.json.model, undefined);
    assert.deepEqual(r.json.messages, openAiMessages('developer'));
    assert.equal(r.json.max_completion_tokens, 256);
    assert.deepEqual(r.json.stream_options, { include_usage: true });
  });

  for (const [service, usage] of [
    ['mistral', false],
    ['deepseek', true],
    ['hugging_face', true],
    ['azureaistudio', false],
  ] as const) {
    test(`${service}: OpenAI protocol, developer sent as system, max_tokens${usage ? ', include_usage' : ''}`, async () => {
      const r = await sent(service);
      assert.equal(r.json.model, 'model-from-request');
      assert.deepEqual(r.json.messages, openAiMessages('system'));
      assert.equal(r.json.max_tokens, 256);
      assert.equal(r.json.max_completion_tokens, undefined);
      assert.deepEqual(r.json.tools, openAiTools);
      assert.deepEqual(r.json.tool_choice, namedChoice);
      assert.equal(r.json.stream, true);
      assert.deepEqual(r.json.stream_options, usage ? { include_usage: true } : undefined);
    });
  }

  test('anthropic: system out of messages, tool_use / tool_result blocks, input_schema, tool_choice tool, max_tokens', async () => {
    const r = await sent('anthropic');
    assert.equal(r.url, '/v1/messages');
    assert.equal(r.headers['x-api-key'], 'sk-ant-test-secret');
    assert.equal(r.headers['anthropic-version'], '2023-06-01');
    assert.deepEqual(r.json, {
      model: 'model-from-request',
      max_tokens: 256,
      system: 'Be brief.\n\nUse metric units.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '{"temp_c":21}' },
            { type: 'text', text: 'And ' },
            { type: 'text', text: 'tomorrow?' },
          ],
        },
      ],
      stop_sequences: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: schema }],
      tool_choice: { type: 'tool', name: 'get_weather' },
      stream: true,
    });
    const required = await sent(
      'anthropic',
      parseChatRequest({ ...conversation, tool_choice: 'required', max_completion_tokens: undefined }),
    );
    assert.deepEqual(required.json.tool_choice, { type: 'any' });
    assert.equal(required.json.max_tokens, 1024, 'max_tokens is required by Anthropic: a default when none is asked');
  });

  for (const service of ['googleaistudio', 'googlevertexai'] as const) {
    test(`${service}: contents with user/model roles, systemInstruction, functionCall / functionResponse, functionDeclarations, toolConfig`, async () => {
      const r = await sent(service);
      assert.match(r.url, /model-from-request:streamGenerateContent\?alt=sse$/);
      if (service === 'googleaistudio') assert.equal(r.headers['x-goog-api-key'], 'goog-test-secret');
      else assert.equal(r.headers.authorization, 'Bearer vertex-token');
      assert.deepEqual(r.json, {
        contents: [
          { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
          { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
          {
            role: 'user',
            parts: [
              { functionResponse: { name: 'get_weather', response: { temp_c: 21 } } },
              { text: 'And ' },
              { text: 'tomorrow?' },
            ],
          },
        ],
        systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Use metric units.' }] },
        tools: [
          { functionDeclarations: [{ name: 'get_weather', description: 'Current weather', parameters: schema }] },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
        generationConfig: {
          maxOutputTokens: 256,
          temperature: 0.2,
          topP: 0.9,
          stopSequences: ['END'],
          candidateCount: 1,
        },
      });
    });
  }

  test('googlevertexai with provider anthropic: streamRawPredict, the Anthropic body with anthropic_version and no model', async () => {
    const r = await sent('googlevertexai', request, { provider: 'anthropic' });
    assert.match(r.url, /\/publishers\/anthropic\/models\/model-from-request:streamRawPredict$/);
    assert.equal(r.headers.authorization, 'Bearer vertex-token');
    assert.equal(r.json.model, undefined);
    assert.equal(r.json.anthropic_version, 'vertex-2023-10-16');
    assert.equal(r.json.system, 'Be brief.\n\nUse metric units.');
    assert.deepEqual(r.json.tool_choice, { type: 'tool', name: 'get_weather' });
    assert.deepEqual(r.json.tools, [{ name: 'get_weather', description: 'Current weather', input_schema: schema }]);
    assert.equal(r.json.max_tokens, 256);
    assert.equal(r.json.stream, true);
  });

  test('amazonbedrock: ConverseStream with toolUse / toolResult blocks, toolConfig, SigV4 over the chat body', async () => {
    const r = await sent('amazonbedrock');
    assert.equal(r.url, '/model/model-from-request/converse-stream');
    assert.match(
      String(r.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
    );
    assert.deepEqual(r.json, {
      messages: [
        { role: 'user', content: [{ text: 'Weather in Paris?' }] },
        {
          role: 'assistant',
          content: [{ toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } }],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'call_1', content: [{ json: { temp_c: 21 } }] } },
            { text: 'And ' },
            { text: 'tomorrow?' },
          ],
        },
      ],
      system: [{ text: 'Be brief.' }, { text: 'Use metric units.' }],
      inferenceConfig: { maxTokens: 256, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
      toolConfig: {
        tools: [{ toolSpec: { name: 'get_weather', description: 'Current weather', inputSchema: { json: schema } } }],
        toolChoice: { tool: { name: 'get_weather' } },
      },
    });
    const auto = await sent('amazonbedrock', parseChatRequest({ ...conversation, tool_choice: 'required' }));
    assert.deepEqual((auto.json.toolConfig as { toolChoice: unknown }).toolChoice, { any: {} });
  });

  test('cohere: v2 chat (always), OpenAI-form tools, tool_choice REQUIRED, p and stop_sequences', async () => {
    const r = await sent('cohere', parseChatRequest({ ...conversation, tool_choice: 'required' }));
    assert.equal(r.url, '/v2/chat');
    assert.equal(r.headers.authorization, 'Bearer co-test-secret');
    assert.deepEqual(r.json, {
      model: 'model-from-request',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: [{ type: 'text', text: 'Use metric units.' }] },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'And ' },
            { type: 'text', text: 'tomorrow?' },
          ],
        },
      ],
      tools: openAiTools,
      tool_choice: 'REQUIRED',
      max_tokens: 256,
      stop_sequences: ['END'],
      temperature: 0.2,
      p: 0.9,
      stream: true,
    });
  });

  test('watsonxai: chat_stream with model_id and project_id, tool_choice for a named function', async () => {
    const r = await sent('watsonxai');
    assert.match(r.url, /^\/ml\/v1\/text\/chat_stream\?version=2024-05-02$/);
    assert.equal(r.headers.authorization, 'Bearer wx-test-secret');
    assert.deepEqual(r.json, {
      model_id: 'model-from-request',
      project_id: 'p1',
      messages: openAiMessages('system'),
      tools: openAiTools,
      tool_choice: namedChoice,
      max_tokens: 256,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
    });
    const auto = await sent('watsonxai', parseChatRequest({ ...conversation, tool_choice: 'auto' }));
    assert.equal(auto.json.tool_choice_option, 'auto');
    assert.equal(auto.json.tool_choice, undefined);
  });

  test('alibabacloud: native input.messages and parameters (result_format message, incremental output, tools)', async () => {
    const r = await sent('alibabacloud');
    assert.equal(r.url, '/api/v1/services/aigc/text-generation/generation');
    assert.equal(r.headers['x-dashscope-sse'], 'enable');
    assert.deepEqual(r.json, {
      model: 'model-from-request',
      input: { messages: openAiMessages('system') },
      parameters: {
        result_format: 'message',
        incremental_output: true,
        tools: openAiTools,
        tool_choice: namedChoice,
        max_tokens: 256,
        temperature: 0.2,
        top_p: 0.9,
        stop: ['END'],
      },
    });
    const compat = await sent('alibabacloud', request, { url: provider.url + '/compatible-mode/v1/chat/completions' });
    assert.deepEqual(compat.json.stream_options, { include_usage: true });
    assert.deepEqual(compat.json.messages, openAiMessages('system'));
  });

  test('ollama: /api/chat with string contents, tool_calls arguments as objects, tool_name, options', async () => {
    const r = await sent('ollama', parseChatRequest({ ...conversation, tool_choice: 'auto' }));
    assert.equal(r.url, '/api/chat');
    assert.deepEqual(r.json, {
      model: 'model-from-request',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Use metric units.' },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
        },
        { role: 'tool', content: '{"temp_c":21}', tool_name: 'get_weather' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: openAiTools,
      stream: true,
      options: { num_predict: 256, temperature: 0.2, top_p: 0.9, stop: ['END'] },
    });
  });

  test('what a provider cannot do is a 400 before any call', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['amazonbedrock', 'none', /does not support tool_choice \[none\]/],
      [
        'cohere',
        { type: 'function', function: { name: 'get_weather' } },
        /does not support tool_choice \[a named function\]/,
      ],
      ['ollama', 'required', /does not support tool_choice \[required\]/],
      ['alibabacloud', 'required', /does not support tool_choice \[required\]/],
    ];
    const before = provider.requests.length;
    for (const [service, choice, message] of cases) {
      await assert.rejects(
        client.callChat(endpoint(service), parseChatRequest({ ...conversation, tool_choice: choice })),
        (err: { status?: number; reason?: string }) => {
          assert.equal(err.status, 400);
          assert.match(err.reason ?? '', message);
          return true;
        },
      );
    }
    await assert.rejects(
      client.callChat(endpoint('azureaistudio', { endpoint_type: 'realtime' }), request),
      /realtime/,
    );
    assert.equal(provider.requests.length, before, 'no provider was called');
  });
});

describe('parseChatRequest', () => {
  const bad: [string, unknown, RegExp][] = [
    ['unknown field', { messages: [{ role: 'user', content: 'x' }], foo: 1 }, /unknown field \[foo\]/],
    ['missing messages', {}, /Field \[messages\] cannot be null/],
    ['empty messages', { messages: [] }, /Field \[messages\] cannot be an empty array/],
    ['messages not an array', { messages: 'hi' }, /failed to parse field \[messages\]/],
    ['bad role', { messages: [{ role: 'robot', content: 'x' }] }, /role/],
    ['content of the wrong type', { messages: [{ role: 'user', content: 5 }] }, /content/],
    [
      'a non-text part',
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'x' }] }] },
      /image_url/,
    ],
    ['tool message without tool_call_id', { messages: [{ role: 'tool', content: 'x' }] }, /tool_call_id/],
    ['temperature as a string', { messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, /temperature/],
    [
      'max_completion_tokens 0',
      { messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 0 },
      /max_completion_tokens/,
    ],
    [
      'unknown tool_choice',
      { messages: [{ role: 'user', content: 'x' }], tools: conversation.tools, tool_choice: 'sometimes' },
      /tool_choice/,
    ],
    [
      'named choice not in tools',
      {
        messages: [{ role: 'user', content: 'x' }],
        tools: conversation.tools,
        tool_choice: { type: 'function', function: { name: 'other' } },
      },
      /not in \[tools\]/,
    ],
    [
      'unknown field in a tool',
      { messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' }, extra: 1 }] },
      /unknown field \[extra\]/,
    ],
  ];
  for (const [what, body, message] of bad) {
    test(`400: ${what}`, () => {
      assert.throws(
        () => parseChatRequest(body),
        (err: { status?: number; reason?: string }) => {
          assert.equal(err.status, 400);
          assert.match(err.reason ?? '', message);
          return true;
        },
      );
    });
  }
  test('a single stop string becomes an array; the request keeps only known fields', () => {
    assert.deepEqual(parseChatRequest({ messages: [{ role: 'user', content: 'x' }], stop: 'END' }), {
      messages: [{ role: 'user', content: 'x' }],
      stop: ['END'],
    });
  });
});
