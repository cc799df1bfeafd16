// The log line pieces: control characters escaped (JSON and pretty), tokens read from every
// provider's usage shape, and the key box's refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { escapeControl, tokensOf } from '../../lib/server/observe.js';
import { prettyLine } from '../../lib/cli/log.js';
import { parseKey, SecretBox, openEndpoint, sealEndpoint } from '../../lib/registry/sealed.js';

test('escapeControl: every character that could end, fake or colour a line is written as \\uXXXX', () => {
  const plain = 'plain text, ünïcode ✓';
  assert.equal(escapeControl(plain), plain);
  for (const c of ['\n', '\r', '\t', '\u001b', '\u0000', '\u007f', '\u0085', '\u009b', '\u2028', '\u2029']) {
    const out = escapeControl(`a${c}b`);
    assert.equal(out, `a\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}b`);
  }
});

test('prettyLine: one terminal line per record, values escaped', () => {
  const line = JSON.stringify({
    level: 'warn',
    time: '2026-01-01T10:11:12.345Z',
    pid: 1,
    msg: 'request',
    error: 'x\n{"forged":1}\u2028\u001b[31m',
  });
  const out = prettyLine(line + '\n');
  assert.equal(out.split('\n').length, 2);
  assert.match(out, /^10:11:12\.345 WARN {2}request error=/);
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  assert.ok(!/[\u0000-\u001f\u2028]/.test(out.slice(0, -1)), out);
  assert.equal(prettyLine('not json\u001b\n'), 'not json\\u001b\n');
});

test('tokensOf reads prompt and completion tokens from every usage shape', () => {
  assert.deepEqual(tokensOf({ prompt_tokens: 3, completion_tokens: 5 }), { prompt: 3, completion: 5 });
  assert.deepEqual(tokensOf({ input_tokens: 2, output_tokens: 7 }), { prompt: 2, completion: 7 });
  assert.deepEqual(tokensOf({ inputTokens: 1, outputTokens: 4 }), { prompt: 1, completion: 4 });
  assert.deepEqual(tokensOf({ promptTokenCount: 6, candidatesTokenCount: 8 }), { prompt: 6, completion: 8 });
  assert.deepEqual(tokensOf({ prompt_eval_count: 9, eval_count: 10 }), { prompt: 9, completion: 10 });
  assert.deepEqual(tokensOf({ input_token_count: 11, generated_token_count: 12 }), { prompt: 11, completion: 12 });
  assert.deepEqual(tokensOf({ tokens: { input_tokens: 13, output_tokens: 14 } }), { prompt: 13, completion: 14 });
  assert.deepEqual(tokensOf({ total: 'n/a' }), { prompt: 0, completion: 0 });
});

test('SecretBox: keys must be 32 bytes; sealed values are bound to their endpoint and setting', () => {
  assert.throws(() => parseKey('c2hvcnQ=', 'K'), /K must be 32 random bytes/);
  assert.throws(() => SecretBox.fromEnv({ INFERENCE_STREAM_SECRETS_KEY: 'not base64 at all!' }), /32 random bytes/);
  assert.equal(SecretBox.fromEnv({}), null);
  const box = new SecretBox(randomBytes(32));
  const endpoint = {
    inference_id: 'a',
    task_type: 'completion',
    service: 'openai',
    service_settings: { api_key: 'sk-secret-1', model_id: 'm' },
    task_settings: {},
  };
  const sealed = sealEndpoint(box, endpoint);
  assert.ok(!JSON.stringify(sealed).includes('sk-secret-1'));
  assert.equal(sealed.service_settings.model_id, 'm');
  assert.deepEqual(openEndpoint(box, sealed, 'x').endpoint, endpoint);
  // moved to another endpoint: does not open
  assert.throws(() => openEndpoint(box, { ...sealed, inference_id: 'b' }, 'x'), /does not authenticate/);
  assert.throws(() => openEndpoint(new SecretBox(randomBytes(32)), sealed, 'x'), /sealed with key id/);
  assert.throws(() => openEndpoint(null, sealed, 'the file'), /encrypted; set INFERENCE_STREAM_SECRETS_KEY/);
  assert.equal(openEndpoint(box, endpoint, 'x').stale, true, 'a plain secret under a key is sealed anew');
});
