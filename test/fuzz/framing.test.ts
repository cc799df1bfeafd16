// Every framing decoder under random, mutated and cut input: frames or a typed error, never
// anything else; the same frames whatever the read boundaries; bounded memory on endless input.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InferenceError, type Frame } from '../../lib/index.js';
import { type FrameDecoder } from '../../lib/stages.js';
import { createFrameDecoder, DetectingDecoder, type FramingName } from '../../lib/framing/detect.js';
import { cutAt } from '../helpers/streams.js';
import { bodyBytes, cuts, fuzzBody, fuzzParams, loadFixtureCases, watchUnhandledRejections } from '../helpers/fuzz.js';

const rejections = watchUnhandledRejections();
after(() => {
  rejections.stop();
  assert.deepEqual(rejections.seen, [], 'no unhandled rejection');
});

const bodies = (await loadFixtureCases()).map(bodyBytes);
const FRAMINGS: FramingName[] = ['sse', 'ndjson', 'json-array', 'json-sequence', 'event-stream'];
const CONTENT_TYPES = [
  undefined,
  'application/json',
  'text/event-stream',
  'application/x-ndjson',
  'application/vnd.amazon.eventstream',
  'text/html; charset=utf-8',
];

type Make = (maxFrameBytes?: number) => FrameDecoder;
const decoders: [string, Make][] = [
  ...FRAMINGS.map((name): [string, Make] => [
    name,
    (max) => createFrameDecoder(name, max === undefined ? {} : { maxFrameBytes: max }),
  ]),
  ...CONTENT_TYPES.map((type): [string, Make] => [
    `detect ${type ?? '(no type)'}`,
    (max) => new DetectingDecoder(type, max === undefined ? {} : { maxFrameBytes: max }),
  ]),
];

interface Outcome {
  frames: Frame[];
  error: InferenceError | null;
}

function decode(make: Make, chunks: readonly Buffer[], maxFrameBytes?: number): Outcome {
  const decoder = make(maxFrameBytes);
  const frames: Frame[] = [];
  const sink = (f: Frame) => {
    // A framing may hand on the value it parsed to find the end: it must be what data parses to.
    const { value, ...rest } = f;
    if (value !== undefined) assert.deepEqual(value, JSON.parse(f.data));
    frames.push(rest);
  };
  try {
    for (const c of chunks) decoder.write(Buffer.from(c), sink);
    decoder.end(sink);
    return { frames, error: null };
  } catch (err) {
    if (!(err instanceof InferenceError)) throw err; // an untyped failure fails the property
    return { frames, error: err };
  }
}

function assertTyped(error: InferenceError | null): void {
  if (error === null) return;
  assert.match(error.type, /^[a-z_]+$/);
  assert.ok(error.status >= 400 && error.status <= 599, `status ${error.status}`);
  assert.ok(error.reason.length > 0, 'a reason');
}

describe('fuzz: framings', () => {
  for (const [name, make] of decoders) {
    test(`${name}: typed errors only, and read boundaries do not change the frames`, () => {
      fc.assert(
        fc.property(fuzzBody(bodies), cuts, fc.constantFrom(undefined, 16, 256), (body, offsets, max) => {
          const whole = decode(make, [body], max);
          assertTyped(whole.error);
          for (const f of whole.frames) {
            assert.equal(typeof f.data, 'string');
            assert.equal(typeof f.event, 'string');
          }
          const cut = decode(
            make,
            cutAt(
              body,
              offsets.map((o) => o % (body.length + 1)),
            ),
            max,
          );
          assertTyped(cut.error);
          // Also with a size limit: it counts bytes whatever the reads, so it trips at the same frame for every cut.
          assert.deepEqual(cut.frames, whole.frames);
          assert.equal(cut.error?.type, whole.error?.type);
        }),
        fuzzParams(60),
      );
    });
  }
});

describe('endless input stays bounded', () => {
  // 8 MiB offered in 64 KiB reads with a 256 KiB limit: the decoder must give up long before the end.
  const limit = 256 * 1024;
  const read = 64 * 1024;
  const endless: Record<string, Buffer> = {
    sse: Buffer.alloc(read, 'a'), // one endless line
    'sse data': Buffer.from('data: ' + 'x'.repeat(read - 7) + '\n'), // one endless event of many lines
    ndjson: Buffer.alloc(read, 'a'),
    'json-array': Buffer.from('["' + 'x'.repeat(read - 2)),
    'json-sequence': Buffer.from('{"a":"' + 'x'.repeat(read - 6)),
  };
  for (const [label, chunk] of Object.entries(endless)) {
    const framing = label.split(' ')[0] as FramingName;
    test(`${label}: an endless frame fails with a typed error within the limit`, () => {
      const decoder = createFrameDecoder(framing, { maxFrameBytes: limit });
      let fed = 0;
      let error: unknown = null;
      try {
        for (let i = 0; i < 128 && error === null; i++) {
          decoder.write(
            i === 0 || (label !== 'json-array' && label !== 'json-sequence') ? chunk : Buffer.alloc(read, 'x'),
            () => {},
          );
          fed += read;
        }
      } catch (err) {
        error = err;
      }
      assert.ok(error instanceof InferenceError, 'a typed error');
      assertTyped(error as InferenceError);
      assert.ok(fed <= limit + read, `gave up after ${fed} bytes`);
    });
  }

  test('event-stream: a prelude announcing a 4 GiB frame is refused at once', () => {
    const prelude = Buffer.alloc(12);
    prelude.writeUInt32BE(0xfffffff0, 0);
    prelude.writeUInt32BE(0, 4);
    // a correct prelude CRC, so that only the length can be the reason
    const { crc32 } = require_crc();
    prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
    const decoder = createFrameDecoder('event-stream', { maxFrameBytes: limit });
    assert.throws(
      () => decoder.write(prelude, () => {}),
      (err: unknown) => err instanceof InferenceError && /larger than the limit/.test(err.reason),
    );
  });
});

/** CRC-32 (IEEE), as the AWS event stream prelude uses. */
function require_crc(): { crc32(b: Buffer): number } {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return {
    crc32(b: Buffer): number {
      let c = 0xffffffff;
      for (const byte of b) c = table[(c ^ byte) & 0xff]! ^ (c >>> 8);
      return (c ^ 0xffffffff) >>> 0;
    },
  };
}
