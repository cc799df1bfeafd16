// The AWS event-stream reader against Smithy's EventStreamCodec (the AWS SDK's own codec) as
// the reference: random frames with headers of every value type, empty to large payloads,
// any cut of the bytes into reads; damaged checksums, truncation at every offset, exception
// and error frames, frames over the size limit.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { EventStreamCodec, Int64 } from '@smithy/core/event-streams';
import type { Frame } from '../../lib/index.js';
import { EventStreamDecoder } from '../../lib/stages.js';
import { cutAt, cutEvery } from '../helpers/streams.js';
import { fuzzRuns } from '../helpers/fuzz.js';

const codec = new EventStreamCodec(
  (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'),
  (s: string) => Buffer.from(s, 'utf8'),
);

const PREFIX = 'Broken AWS event stream frame from inference provider: ';

type Message = Parameters<EventStreamCodec['encode']>[0];
type MessageHeaderValue = Message['headers'][string];
type Header = [name: string, value: MessageHeaderValue];

/** One frame: Smithy's encoder when the names are distinct; else its header encoder per header, framed here. */
function encode(headers: readonly Header[], body: Uint8Array): Buffer {
  const names = new Set(headers.map(([n]) => n));
  if (names.size === headers.length) {
    const map: Message['headers'] = {};
    for (const [n, v] of headers) map[n] = v;
    const bytes = codec.encode({ headers: map, body });
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const h = Buffer.concat(headers.map(([n, v]) => codec.formatHeaders({ [n]: v })));
  return frameOf(h, Buffer.from(body));
}

/** Prelude, headers, payload and both CRCs around raw header bytes. */
function frameOf(headers: Buffer, body: Buffer): Buffer {
  const total = 16 + headers.length + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headers.copy(out, 12);
  body.copy(out, 12 + headers.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

interface Outcome {
  frames: Frame[];
  error: { type: string; reason: string } | null;
}

function ours(chunks: readonly Buffer[], maxFrameBytes?: number): Outcome {
  const frames: Frame[] = [];
  const d = new EventStreamDecoder(maxFrameBytes === undefined ? {} : { maxFrameBytes });
  const sink = (f: Frame) => frames.push(f);
  try {
    for (const c of chunks) d.write(c, sink);
    d.end(sink);
    return { frames, error: null };
  } catch (err) {
    const e = err as { type: string; reason: string };
    return { frames, error: { type: e.type, reason: e.reason } };
  }
}

/**
 * What the frames must read as: each complete frame decoded by Smithy's codec and turned into
 * a Frame as the reader did when it used the codec itself (`:message-type` absent, empty or
 * not a string: an event; `exception`: the `:exception-type`; anything else: an error frame
 * whose message is in its headers).
 */
function reference(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  for (let at = 0; at < bytes.length;) {
    const total = bytes.readUInt32BE(at);
    const { headers, body } = codec.decode(bytes.subarray(at, at + total));
    at += total;
    const str = (name: string) => {
      const v = headers[name]?.value;
      return typeof v === 'string' ? v : '';
    };
    const data = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
    const type = str(':message-type') || 'event';
    if (type === 'event') frames.push({ event: str(':event-type'), data, id: '' });
    else if (type === 'exception') frames.push({ event: str(':exception-type'), data, id: '', exception: true });
    else
      frames.push({
        event: str(':error-code') || 'error',
        data: JSON.stringify({ message: str(':error-message') || data }),
        id: '',
        exception: true,
      });
  }
  return frames;
}

const WANTED = [':message-type', ':event-type', ':exception-type', ':error-code', ':error-message', ':content-type'];

const uuidArb = fc.uuid();
const valueArb: fc.Arbitrary<MessageHeaderValue> = fc.oneof(
  fc.boolean().map((value) => ({ type: 'boolean', value }) as const),
  fc.integer({ min: -128, max: 127 }).map((value) => ({ type: 'byte', value }) as const),
  fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: 'short', value }) as const),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ type: 'integer', value }) as const),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((bytes) => ({ type: 'long', value: new Int64(bytes) }) as const),
  fc.uint8Array({ maxLength: 40 }).map((value) => ({ type: 'binary', value }) as const),
  fc.string({ maxLength: 30, unit: 'grapheme' }).map((value) => ({ type: 'string', value }) as const),
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => ({ type: 'timestamp', value: new Date(ms) }) as const),
  uuidArb.map((value) => ({ type: 'uuid', value }) as const),
);
/** Values of the headers the reader takes: mostly strings it knows, sometimes another type. */
const wantedValueArb: fc.Arbitrary<MessageHeaderValue> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom('event', 'exception', 'error', '', 'contentBlockDelta', 'chunk', 'throttlingException', 'évent')
      .map((value) => ({ type: 'string', value }) as const),
  },
  { weight: 1, arbitrary: valueArb },
);
const nameArb = fc
  .string({ maxLength: 16, unit: 'grapheme' })
  .filter((n) => n !== '__proto__' && Buffer.byteLength(n) <= 255);
const headerArb: fc.Arbitrary<Header> = fc.oneof(
  fc.tuple(fc.constantFrom(...WANTED), wantedValueArb),
  fc.tuple(nameArb, valueArb),
);
const payloadArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200, unit: 'grapheme' }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 200, max: 70_000 }).map((n) => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = (i * 7 + (n & 0xff)) & 0xff;
      return b;
    }),
  },
);
const frameArb = fc.tuple(fc.array(headerArb, { maxLength: 8 }), payloadArb).map(([h, b]) => encode(h, b));
const streamArb = fc.array(frameArb, { minLength: 1, maxLength: 6 }).map((fs) => Buffer.concat(fs));

/** Reads as a socket might cut them: random offsets, sometimes one byte at a time. */
function readsArb(bytes: Buffer): fc.Arbitrary<readonly Buffer[]> {
  return fc.oneof(
    fc.array(fc.nat({ max: bytes.length }), { maxLength: 30 }).map((o) => cutAt(bytes, o)),
    fc.integer({ min: 1, max: 64 }).map((n) => cutEvery(bytes, bytes.length > 20_000 ? Math.max(n, 997) : n)),
    fc.constant([bytes]),
  );
}

describe('AWS event stream reader against Smithy EventStreamCodec', () => {
  test('random frames, headers of every type, any cut: the same frames as the codec', () => {
    fc.assert(
      fc.property(
        streamArb.chain((bytes) => fc.tuple(fc.constant(bytes), readsArb(bytes))),
        ([bytes, reads]) => {
          assert.deepEqual(ours(reads), { frames: reference(bytes), error: null });
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });

  test('one-byte reads of a whole stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(headerArb, { maxLength: 6 }), fc.uint8Array({ maxLength: 400 })), {
          minLength: 1,
          maxLength: 5,
        }),
        (frames) => {
          const bytes = Buffer.concat(frames.map(([h, b]) => encode(h, b)));
          assert.deepEqual(ours(cutEvery(bytes, 1)), { frames: reference(bytes), error: null });
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });

  test('duplicate wanted headers: the last one wins, as in the codec', () => {
    const body = Buffer.from('{"a":1}');
    const bytes = encode(
      [
        [':message-type', { type: 'string', value: 'exception' }],
        [':event-type', { type: 'string', value: 'first' }],
        [':message-type', { type: 'string', value: 'event' }],
        [':event-type', { type: 'string', value: 'second' }],
        [':exception-type', { type: 'string', value: 'x' }],
        [':event-type', { type: 'string', value: 'third' }],
      ],
      body,
    );
    const expected = [{ event: 'third', data: '{"a":1}', id: '' }];
    assert.deepEqual(reference(bytes), expected);
    assert.deepEqual(ours([bytes]), { frames: expected, error: null });
    // a later non-string value clears it
    const cleared = encode(
      [
        [':event-type', { type: 'string', value: 'named' }],
        [':event-type', { type: 'integer', value: 7 }],
      ],
      body,
    );
    assert.deepEqual(ours([cleared]).frames, reference(cleared));
    assert.equal(ours([cleared]).frames[0]!.event, '');
  });

  test('exception and error frames', () => {
    const exception = encode(
      [
        [':message-type', { type: 'string', value: 'exception' }],
        [':exception-type', { type: 'string', value: 'modelStreamErrorException' }],
        [':content-type', { type: 'string', value: 'application/json' }],
      ],
      Buffer.from('{"message":"the model broke"}'),
    );
    const error = encode(
      [
        [':message-type', { type: 'string', value: 'error' }],
        [':error-code', { type: 'string', value: 'InternalFailure' }],
        [':error-message', { type: 'string', value: 'stream broke' }],
      ],
      new Uint8Array(0),
    );
    const bytes = Buffer.concat([exception, error]);
    const got = ours(cutEvery(bytes, 5));
    assert.deepEqual(got, { frames: reference(bytes), error: null });
    assert.deepEqual(got.frames, [
      { event: 'modelStreamErrorException', data: '{"message":"the model broke"}', id: '', exception: true },
      { event: 'InternalFailure', data: '{"message":"stream broke"}', id: '', exception: true },
    ]);
  });

  test('any damaged byte: the frames before it, then the codec’s checksum error (the prelude’s own check in the prelude)', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 3 }),
        frameArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 40 }),
        (before, victim, where, xor, read) => {
          const at = where % victim.length;
          const bad = Buffer.from(victim);
          bad[at] = bad[at]! ^ xor;
          const good = Buffer.concat(before);
          const got = ours(cutEvery(Buffer.concat([good, bad]), read));
          assert.deepEqual(got.frames, reference(good));
          assert.equal(got.error?.type, 'frame_exception');
          if (at < 12) {
            // a damaged length may also pass the prelude CRC by chance only with a 1 in 2^32 chance
            assert.equal(got.error!.reason, PREFIX + 'prelude checksum mismatch');
          } else {
            let smithy = '';
            try {
              codec.decode(bad);
            } catch (err) {
              smithy = (err as Error).message;
            }
            assert.match(smithy, /message checksum/);
            assert.equal(got.error!.reason, PREFIX + smithy);
          }
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });

  test('truncation at every offset: the complete frames, then incomplete_stream (none at a frame boundary)', () => {
    const frames = [
      encode([[':event-type', { type: 'string', value: 'messageStart' }]], Buffer.from('{"role":"assistant"}')),
      encode([], new Uint8Array(0)),
      encode(
        [
          [':message-type', { type: 'string', value: 'event' }],
          [':event-type', { type: 'string', value: 'contentBlockDelta' }],
          ['flag', { type: 'boolean', value: true }],
          ['id', { type: 'uuid', value: '0b1c5b04-a8b6-4e0e-9c53-5b4a3b3d2c1e' }],
          ['t', { type: 'timestamp', value: new Date(1700000000000) }],
        ],
        Buffer.from('{"delta":{"text":"héllo"}}'),
      ),
    ];
    const bytes = Buffer.concat(frames);
    const ends: number[] = [];
    for (let e = 0, k = 0; k < frames.length; k++) ends.push((e += frames[k]!.length));
    const all = reference(bytes);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const complete = ends.filter((e) => e <= cut).length;
      const atBoundary = cut === 0 || ends.includes(cut);
      for (const reads of [[bytes.subarray(0, cut)], cutEvery(bytes.subarray(0, cut), 1)]) {
        const got = ours(reads);
        assert.deepEqual(got.frames, all.slice(0, complete), `cut at ${cut}`);
        assert.equal(got.error?.type ?? null, atBoundary ? null : 'incomplete_stream', `cut at ${cut}`);
      }
    }
  });

  test('a frame longer than the limit is refused from its prelude; one at the limit is read', () => {
    const body = Buffer.alloc(1000, 0x61);
    const frame = encode([[':event-type', { type: 'string', value: 'big' }]], body);
    const limit = frame.length - 1;
    for (const reads of [[frame], cutEvery(frame, 1), cutEvery(frame, 12), [frame.subarray(0, 12)]]) {
      const got = ours(reads, limit);
      assert.deepEqual(got.frames, []);
      assert.deepEqual(got.error, {
        type: 'frame_exception',
        reason: `${PREFIX}frame of ${frame.length} bytes is larger than the limit of ${limit} bytes`,
      });
    }
    assert.deepEqual(ours(cutEvery(frame, 7), frame.length), { frames: reference(frame), error: null });
  });

  test('an unknown header type is the codec’s error', () => {
    const headers = Buffer.from([1, 0x78, 10]); // name "x", type 10
    const bytes = frameOf(headers, Buffer.from('{}'));
    let smithy = '';
    try {
      codec.decode(bytes);
    } catch (err) {
      smithy = (err as Error).message;
    }
    assert.equal(smithy, 'Unrecognized header type tag');
    assert.deepEqual(ours([bytes]).error, { type: 'frame_exception', reason: PREFIX + smithy });
  });

  test('a header running past the header section is a frame error, never a header read from the payload', () => {
    const cases = [
      Buffer.from([5, 0x61]), // name longer than the section
      Buffer.from([1, 0x61]), // no type byte
      Buffer.from([1, 0x61, 4, 0, 0]), // int cut short
      Buffer.from([1, 0x61, 7, 0]), // string length cut short
      Buffer.concat([Buffer.from([11]), Buffer.from(':event-type'), Buffer.from([7, 0, 9]), Buffer.from('chunk')]),
    ];
    for (const headers of cases) {
      const got = ours([frameOf(headers, Buffer.from('{"bytes":"AAAA"}'))]);
      assert.equal(got.error?.type, 'frame_exception', headers.toString('hex'));
      assert.match(got.error!.reason, /past the header section/);
      assert.deepEqual(got.frames, []);
    }
  });
});
