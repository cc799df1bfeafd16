// The official @elastic/elasticsearch client's inference.chatCompletionUnified (with tools)
// against the real server, started as `npm start` starts it, over provider streams with
// tool calls: OpenAI parallel calls, Anthropic tool_use, Gemini functionCall, Bedrock
// toolUse; the unified error shape for a bad request, a mid-stream error and the task-type
// rules; the demo-chat endpoint calling a tool with no key.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Client, errors } from '@elastic/elasticsearch';
import { chatCases } from '../fixtures/chat/cases.js';
import type { ChatCase } from '../fixtures/chat/types.js';
import { readChat, type ChatOutcome } from '../helpers/chat.js';
import { cutEvery } from '../helpers/streams.js';
import { fakeProvider, settingsFor, writeChunks, type FakeProvider } from './helpers.js';

const root = new URL('../../', import.meta.url);

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Weather now',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  {
    type: 'function' as const,
    function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } },
  },
];
const chatRequest = {
  messages: [{ role: 'user' as const, content: 'Weather and time in Paris?' }],
  tools,
  tool_choice: 'auto' as const,
};

async function readAll(body: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of body) text += chunk.toString();
  return text;
}

const pick = (name: string): ChatCase => {
  const c = chatCases.find((x) => x.name === name);
  assert.ok(c, name);
  return c;
};

/** Replayed provider streams, by the path the endpoint's url names. */
const replays: [string, string, ChatCase][] = [
  ['openai', '/openai', pick('openai: parallel tool calls')],
  ['anthropic', '/anthropic', pick('anthropic: tool call after text')],
  ['googleaistudio', '/gemini', pick('googleaistudio: parallel tool calls')],
  ['amazonbedrock', '/bedrock', pick('amazonbedrock (ConverseStream): parallel tool calls')],
  ['openai', '/openai-error', pick('openai: provider error mid-stream')],
];

describe('official client: inference.chatCompletionUnified against npm start', () => {
  let provider: FakeProvider;
  let child: ChildProcess;
  let client: Client;

  before(async () => {
    provider = await fakeProvider(async (req, res) => {
      const path = req.url.split('?')[0]!;
      const replay = replays.find(
        ([, p]) => path.startsWith(p + '/') || path === p || path.startsWith(p + ':') || path.includes(p + '/'),
      );
      const c = replay?.[2];
      if (!c) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': c.contentType ?? 'text/event-stream' });
      await writeChunks(res, cutEvery(Buffer.from(c.body), 29));
      res.end();
    });
    // as `npm start` does: the built CLI's serve
    child = spawn(process.execPath, ['bin/inference-stream.js', 'serve'], {
      cwd: root,
      env: { ...process.env, PORT: '0', INFERENCE_STREAM_DEMO_TPS: '5000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (b) => {
        out += b;
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    client = new Client({ node: url });
    for (const [service, path] of replays) {
      await client.inference.put({
        task_type: 'chat_completion',
        inference_id: `${service}-${path.slice(1)}`,
        inference_config: {
          service,
          service_settings: settingsFor(
            service,
            provider.url + (service === 'googleaistudio' ? '/gemini/models/x:streamGenerateContent?alt=sse' : path),
          ),
        },
      });
    }
  });

  after(async () => {
    await client?.close();
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await provider?.close();
  });

  async function chat(
    id: string,
    request: object = chatRequest,
  ): Promise<{ status: number; contentType: string; got: ChatOutcome }> {
    const res = await client.inference.chatCompletionUnified(
      { inference_id: id, chat_completion_request: request as typeof chatRequest },
      { asStream: true, meta: true },
    );
    const text = await readAll(res.body as unknown as NodeJS.ReadableStream);
    return { status: res.statusCode!, contentType: String(res.headers['content-type']), got: readChat(text) };
  }

  for (const [service, path, c] of replays.filter(([, , c]) => !c.error)) {
    test(`${service}: text, names and arguments per tool-call index, finish reason, one chunk per event`, async () => {
      const { status, contentType, got } = await chat(`${service}-${path.slice(1)}`);
      assert.equal(status, 200);
      assert.equal(contentType, 'text/event-stream');
      assert.equal(got.text, c.text);
      assert.deepEqual(
        got.calls.map((x) => [x.name, x.arguments]),
        c.calls.map((x) => [x.name, x.arguments]),
      );
      for (const [i, want] of c.calls.entries()) if (want.id) assert.equal(got.calls[i]!.id, want.id);
      assert.equal(got.finish, 'tool_calls');
      assert.equal(got.done, true);
      assert.deepEqual(got.usage, c.usage);
    });
  }

  test('the request the provider got carries the tools in its own API', async () => {
    const anthropic = provider.requests.find((r) => r.url.startsWith('/anthropic'));
    assert.ok(anthropic);
    const body = JSON.parse(anthropic.body) as {
      tools: { name: string; input_schema: unknown }[];
      tool_choice: unknown;
    };
    assert.deepEqual(
      body.tools.map((t) => t.name),
      ['get_weather', 'get_time'],
    );
    assert.deepEqual(body.tool_choice, { type: 'auto' });
  });

  test('a provider error mid-stream: the chunks before it, then one unified error event, no [DONE]', async () => {
    const { status, got } = await chat('openai-openai-error');
    assert.equal(status, 200);
    assert.equal(got.text, 'Partial ');
    assert.equal(got.done, false);
    assert.deepEqual(Object.keys(got.error!), ['code', 'message', 'type']);
    assert.match(got.error!.message, /The model is overloaded/);
  });

  test('a bad request: 400 in the unified shape, the provider not called', async () => {
    const calls = provider.requests.length;
    for (const bad of [{ ...chatRequest, foo: 1 }, { messages: [] }, { tools }]) {
      await assert.rejects(
        client.inference.chatCompletionUnified({
          inference_id: 'openai-openai',
          chat_completion_request: bad as typeof chatRequest,
        }),
        (err: InstanceType<typeof errors.ResponseError>) => {
          assert.equal(err.statusCode, 400);
          const body = err.body as { error: Record<string, unknown> };
          assert.deepEqual(Object.keys(body), ['error']);
          assert.equal(body.error.code, 'bad_request');
          assert.equal(typeof body.error.message, 'string');
          assert.equal(typeof body.error.type, 'string');
          assert.equal('status' in body, false);
          return true;
        },
      );
    }
    assert.equal(provider.requests.length, calls);
  });

  test('task types: a completion endpoint on the chat route, a chat endpoint on the completion routes', async () => {
    const { status, got } = await chat('demo');
    assert.equal(status, 400);
    assert.equal(got.error!.code, 'bad_request');
    assert.equal(
      got.error!.message,
      'Incompatible task_type for unified API, the requested type [completion] must be one of [chat_completion]',
    );
    for (const call of [
      // POST _inference/completion/<id>/_stream
      () =>
        client.inference.streamCompletion(
          { inference_id: 'openai-openai', input: 'hi' },
          { asStream: true, meta: true },
        ),
      // POST _inference/<id>/_stream
      () =>
        client.transport.request(
          { method: 'POST', path: '/_inference/openai-openai/_stream', body: { input: 'hi' } },
          { asStream: true, meta: true },
        ),
    ]) {
      const res = await call();
      assert.equal(res.statusCode, 400);
      const text = await readAll(res.body as unknown as NodeJS.ReadableStream);
      assert.match(text, /please use the _inference\/chat_completion\/openai-openai\/_stream URL/);
    }
    const get = await client.inference.get({ inference_id: 'openai-openai' });
    assert.equal(get.endpoints[0]!.task_type, 'chat_completion');
  });

  test('demo-chat: the simulated provider calls a tool when asked with tools, answers text without', async () => {
    const withTools = await chat('demo-chat');
    assert.equal(withTools.got.calls.length, 1);
    assert.equal(withTools.got.calls[0]!.name, 'get_weather');
    assert.deepEqual(JSON.parse(withTools.got.calls[0]!.arguments), { city: 'Weather and time in Paris?' });
    assert.equal(withTools.got.finish, 'tool_calls');
    const plain = await chat('demo-chat', { messages: [{ role: 'user', content: 'hello' }] });
    assert.ok(plain.got.text.includes('hello'));
    assert.equal(plain.got.finish, 'stop');
  });
});
