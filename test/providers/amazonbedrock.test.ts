// Bedrock behaviour over many bodies: every single-byte corruption of a frame is caught, and
// the error-type frames and odd exception payloads a fixture list would not enumerate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { cutEvery, runDeltas } from '../helpers/streams.js';

const codec = new EventStreamCodec(
  (b: Uint8Array) => Buffer.from(b).toString('utf8'),
  (s: string) => Buffer.from(s, 'utf8'),
);
function frame(headers: Record<string, string>, payload: string): Buffer {
  const h: Record<string, { type: 'string'; value: string }> = {};
  for (const [k, v] of Object.entries(headers)) h[k] = { type: 'string', value: v };
  return Buffer.from(codec.encode({ headers: h, body: Buffer.from(payload, 'utf8') }));
}
const event = (type: string, payload: object) =>
  frame(
    { ':message-type': 'event', ':event-type': type, ':content-type': 'application/json' },
    JSON.stringify({ ...payload, p: 'abc' }),
  );
const CT = 'application/vnd.amazon.eventstream';

test('any single flipped byte in a frame after a good one is a frame error, never wrong text', async () => {
  const good = event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'ok' } });
  const victim = event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'zwei 🙂' } });
  const tail = event('messageStop', { stopReason: 'end_turn' });
  for (let at = 0; at < victim.length; at++) {
    const bad = Buffer.from(victim);
    bad[at] = bad[at]! ^ 0x01;
    const got = await runDeltas('amazonbedrock', cutEvery(Buffer.concat([good, bad, tail]), 13), { contentType: CT });
    assert.deepEqual(got.deltas, [{ delta: 'ok' }], `byte ${at}`);
    assert.equal(got.error?.type, 'frame_exception', `byte ${at}: ${got.error?.reason}`);
  }
});

test('an error-type frame (:error-code / :error-message headers) is a provider error', async () => {
  const body = Buffer.concat([
    event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'a' } }),
    frame({ ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'stream broke' }, ''),
  ]);
  const got = await runDeltas('amazonbedrock', [body], { contentType: CT });
  assert.deepEqual(got.deltas, [{ delta: 'a' }]);
  assert.equal(got.error?.type, 'status_exception');
  assert.equal(got.error?.reason, 'stream broke'); // the provider's message alone, as Elasticsearch reports it
});

test('exception statuses by name, any case; an unknown name is 500; a non-JSON payload is kept as the message', async () => {
  const cases: [string, string, number, string][] = [
    ['internalServerException', '{"message":"boom"}', 500, 'boom'],
    ['ValidationException', '{"message":"bad input"}', 400, 'bad input'],
    ['serviceUnavailableException', '{"message":"later"}', 503, 'later'],
    ['MODELTIMEOUTEXCEPTION', '{"message":"slow"}', 408, 'slow'],
    ['somethingNewException', '{"Message":"new"}', 500, 'new'],
    [
      'constructor',
      '{"message":"a name that is also an Object.prototype key"}',
      500,
      'a name that is also an Object.prototype key',
    ],
    ['throttlingException', 'Rate exceeded', 429, 'Rate exceeded'],
    ['modelStreamErrorException', '{}', 424, 'modelStreamErrorException'],
  ];
  for (const [type, payload, status, reason] of cases) {
    const body = frame(
      { ':message-type': 'exception', ':exception-type': type, ':content-type': 'application/json' },
      payload,
    );
    const got = await runDeltas('amazonbedrock', [body], { contentType: CT });
    assert.equal(got.error?.status, status, type);
    assert.equal(got.error?.type, 'status_exception');
    // The provider's message alone; the exception name only when there is no message.
    assert.equal(got.error?.reason, reason);
  }
});

test('a stream ending right after messageStop (no metadata frame) is clean', async () => {
  const text = event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'x' } });
  const stop = event('messageStop', { stopReason: 'max_tokens' });
  const noMetadata = await runDeltas('amazonbedrock', [Buffer.concat([text, stop])], { contentType: CT });
  assert.deepEqual(noMetadata, { deltas: [{ delta: 'x' }, { finish_reason: 'max_tokens' }], error: null });
});

test('InvokeModel chunks of any size, short after long, read the same as their text (the decode buffer is reused)', async () => {
  const chunk = (event: object) =>
    frame(
      { ':message-type': 'event', ':event-type': 'chunk', ':content-type': 'application/json' },
      JSON.stringify({ bytes: Buffer.from(JSON.stringify(event), 'utf8').toString('base64'), p: 'abc' }),
    );
  const texts = ['a', 'é'.repeat(400), 'b', 'x'.repeat(70_000), 'ok 🙂', '', 'z'.repeat(300), 'end'];
  const body = Buffer.concat([
    chunk({ type: 'message_start', message: { role: 'assistant', content: [] } }),
    chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...texts.map((text) => chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
    chunk({ type: 'content_block_stop', index: 0 }),
    chunk({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }),
    chunk({ type: 'message_stop' }),
  ]);
  const got = await runDeltas('amazonbedrock', cutEvery(body, 4096), { contentType: CT });
  assert.equal(got.error, null);
  const read = got.deltas.filter((d) => 'delta' in d).map((d) => (d as { delta: string }).delta);
  assert.deepEqual(
    read,
    texts.filter((t) => t !== ''),
  );
});
