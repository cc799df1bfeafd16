// The real binary, as a user runs it (built into dist/ by `npm run build`, which `npm test` runs first).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/inference-stream.js', import.meta.url));

function run(args: string[], stdin: Buffer | string = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const anthropicBody =
  'event: message_start\ndata: {"type":"message_start","message":{"id":"m","content":[]}}\n\n' +
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi 👋"}}\n\n' +
  'event: message_stop\ndata: {"type":"message_stop"}\n\n';

describe('inference-stream CLI', () => {
  test('convert prints Elasticsearch SSE and exits 0', async () => {
    const r = await run(['convert', '--provider', 'anthropic'], anthropicBody);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'event: message\ndata: {"completion":[{"delta":"Hi 👋"}]}\n\nevent: message\ndata: [DONE]\n\n');
  });

  test('convert exits 1 when the output ends in an error event', async () => {
    const r = await run(['convert', '--provider', 'openai', '--status', '429', '--content-type', 'application/json'], '{"error":{"message":"Rate limit reached","type":"requests"}}');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^event: error\ndata: \{"error":\{"root_cause":\[\{"type":"status_exception","reason":"Received a rate limit status code.*Rate limit reached.*"status":429\}\n\n$/);
  });

  test('deltas prints one JSON object per line, and the error last with exit 1', async () => {
    const r = await run(['deltas', '--provider', 'openai'], 'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\ndata: {"choices":[{"index":0,"delta":{"content":" b"}}]}\n\n');
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.slice(0, 2), [{ delta: 'a' }, { delta: ' b' }]);
    assert.equal(lines[2].error.type, 'incomplete_stream');
    assert.equal(lines[2].error.status, 500);
    assert.equal(typeof lines[2].error.reason, 'string');
  });

  test('providers lists every id', async () => {
    const r = await run(['providers']);
    assert.equal(r.code, 0);
    const ids = r.stdout.trim().split('\n').map((l) => l.split('\t')[0]);
    assert.ok(ids.includes('openai') && ids.includes('anthropic'));
  });

  for (const args of [[], ['nope'], ['deltas'], ['deltas', '--provider'], ['deltas', '--provider', 'nope'], ['convert', '--provider', 'openai', '--status', 'abc'], ['convert', '--provider', 'openai', '--what']]) {
    test(`bad usage exits 2 with usage on stderr: ${JSON.stringify(args)}`, async () => {
      const r = await run(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /usage:/);
      assert.equal(r.stdout, '');
    });
  }
});
