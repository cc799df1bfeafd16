// `inference-stream convert --task chat_completion`: a provider body in, chat.completion.chunk events out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../lib/cli/main.js';
import { chatCases } from './fixtures/chat/cases.js';
import { readChat } from './helpers/chat.js';

async function cli(args: string[], input: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += b));
  stderr.on('data', (b) => (err += b));
  const code = await main(args, { stdin: Readable.from([input]), stdout, stderr });
  return { code, stdout: out, stderr: err };
}

test('convert --task chat_completion writes chunks with the tool calls, exit 0; an error ends with exit 1', async () => {
  const ok = chatCases.find((c) => c.provider === 'anthropic' && c.calls.length > 1)!;
  const run = await cli(['convert', '--provider', 'anthropic', '--task', 'chat_completion'], Buffer.from(ok.body));
  assert.equal(run.code, 0, run.stderr);
  const got = readChat(run.stdout);
  assert.deepEqual(
    got.calls.map((c) => [c.id, c.name, c.arguments]),
    ok.calls.map((c) => [c.id, c.name, c.arguments]),
  );
  assert.equal(got.finish, 'tool_calls');
  const bad = chatCases.find((c) => c.provider === 'anthropic' && c.error)!;
  const failed = await cli(
    ['convert', '--provider', 'anthropic', '--task', 'chat_completion', '--bom'],
    Buffer.from(bad.body),
  );
  assert.equal(failed.code, 1);
  assert.ok(failed.stdout.startsWith('\uFEFFevent: message\n'));
  assert.equal(readChat(failed.stdout).error?.code, 'internal_server_error');
});

test('convert --model names the model when the provider does not; a bad --task is a usage error', async () => {
  const c = chatCases.find((x) => x.name === 'amazonbedrock (ConverseStream): text answer')!;
  const run = await cli(
    ['convert', '--provider', 'amazonbedrock', '--task', 'chat_completion', '--model', 'anthropic.claude-3'],
    c.body as Buffer,
  );
  assert.equal(run.code, 0);
  assert.equal(readChat(run.stdout).chunks[0]!.model, 'anthropic.claude-3');
  const usage = await cli(['convert', '--provider', 'openai', '--task', 'embedding'], Buffer.alloc(0));
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--task must be completion or chat_completion/);
});
