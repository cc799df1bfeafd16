import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { type Frame } from '../../lib/index.js';
import { EventStreamDecoder, eventStreamParser } from '../../lib/stages.js';
import { cutAt, cutEvery, source } from '../helpers/streams.js';

const codec = new EventStreamCodec(
  (b: Uint8Array) => Buffer.from(b).toString('utf8'),
  (s: string) => Buffer.from(s, 'utf8'),
);

function frame(headers: Record<string, string>, payload: string): Buffer {
  const h: Record<string, { type: 'string'; value: string }> = {};
  for (const [k, v] of Object.entries(headers)) h[k] = { type: 'string', value: v };
  return Buffer.from(codec.encode({ headers: h, body: Buffer.from(payload) }));
}
const event = (type: string, payload: object) =>
  frame(
    { ':message-type': 'event', ':event-type': type, ':content-type': 'application/json' },
    JSON.stringify(payload),
  );

function decode(chunks: Buffer[]): { frames: Frame[]; error: string | null } {
  const frames: Frame[] = [];
  const d = new EventStreamDecoder();
  const sink = (f: Frame) => frames.push(f);
  try {
    for (const c of chunks) d.write(c, sink);
    d.end(sink);
    return { frames, error: null };
  } catch (err) {
    return { frames, error: (err as { type: string }).type };
  }
}

describe('AWS event stream framing', () => {
  test('the published test vector decodes (no headers, payload {"foo": "bar"})', () => {
    const bytes = Buffer.from('0000001e00000000baf2f68a7b22666f6f223a2022626172227dae7258e4', 'hex');
    // The vector's message CRC: computed by zlib's polynomial over the whole message.
    const { frames, error } = decode([bytes]);
    assert.equal(error, null);
    assert.deepEqual(frames, [{ event: '', data: '{"foo": "bar"}', id: '' }]);
  });

  test('frames split anywhere, UTF-8 payloads', () => {
    const body = Buffer.concat([
      event('contentBlockDelta', { delta: { text: 'héllo 🌍' } }),
      event('messageStop', { stopReason: 'end_turn' }),
    ]);
    const expected = [
      { event: 'contentBlockDelta', data: '{"delta":{"text":"héllo 🌍"}}', id: '' },
      { event: 'messageStop', data: '{"stopReason":"end_turn"}', id: '' },
    ];
    assert.deepEqual(decode(cutEvery(body, 1)), { frames: expected, error: null });
    fc.assert(
      fc.property(fc.array(fc.nat({ max: body.length }), { maxLength: 20 }), (offsets) => {
        assert.deepEqual(decode(cutAt(body, offsets)), { frames: expected, error: null });
      }),
      { numRuns: 200 },
    );
  });

  test('exception frames are marked', () => {
    const ex = frame(
      { ':message-type': 'exception', ':exception-type': 'throttlingException', ':content-type': 'application/json' },
      '{"message":"Too many requests"}',
    );
    assert.deepEqual(decode([ex]).frames, [
      { event: 'throttlingException', data: '{"message":"Too many requests"}', id: '', exception: true },
    ]);
  });

  test('prelude CRC mismatch is a frame error after the good frames before it', () => {
    const good = event('contentBlockDelta', { delta: { text: 'a' } });
    const bad = event('contentBlockDelta', { delta: { text: 'b' } });
    bad[9] = bad[9]! ^ 0xff; // inside the prelude CRC
    const { frames, error } = decode(cutEvery(Buffer.concat([good, bad]), 7));
    assert.equal(frames.length, 1);
    assert.equal(error, 'frame_exception');
  });

  test('message CRC mismatch is a frame error', () => {
    const bad = event('contentBlockDelta', { delta: { text: 'b' } });
    bad[bad.length - 10] = 0x41; // payload byte changed, message CRC no longer matches
    assert.equal(decode([bad]).error, 'frame_exception');
  });

  test('a truncated last frame is incomplete', () => {
    const good = event('messageStart', { role: 'assistant' });
    assert.deepEqual(decode([Buffer.concat([good, good.subarray(0, 20)])]).error, 'incomplete_stream');
    assert.deepEqual(decode([good.subarray(0, 5)]).error, 'incomplete_stream');
  });

  test('an impossible length is rejected at once', () => {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(8, 0); // shorter than the 16-byte minimum
    b.writeUInt32BE(0, 4);
    const { crc32 } = require_zlib();
    b.writeUInt32BE(crc32(b.subarray(0, 8)), 8);
    assert.equal(decode([b]).error, 'frame_exception');
  });

  test('eventStreamParser() as a Transform', async () => {
    const frames: Frame[] = [];
    for await (const f of source(cutEvery(event('metadata', { usage: { inputTokens: 1 } }), 4)).pipe(
      eventStreamParser(),
    ))
      frames.push(f);
    assert.deepEqual(frames, [{ event: 'metadata', data: '{"usage":{"inputTokens":1}}', id: '' }]);
  });
});

import * as zlib from 'node:zlib';
function require_zlib() {
  return zlib as unknown as { crc32(b: Uint8Array): number };
}
