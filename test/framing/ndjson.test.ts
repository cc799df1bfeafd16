import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import split2 from 'split2';
import { type Frame } from '../../lib/index.js';
import { NdjsonDecoder, ndjsonParser } from '../../lib/stages.js';
import { cutAt, cutEvery, source } from '../helpers/streams.js';

function decode(chunks: Buffer[]): string[] {
  const lines: string[] = [];
  const d = new NdjsonDecoder();
  for (const c of chunks) d.write(c, (f) => lines.push(f.data));
  d.end((f) => lines.push(f.data));
  return lines;
}

describe('NDJSON framing', () => {
  test('blank lines skipped, CRLF, last line without newline', () => {
    assert.deepEqual(decode([Buffer.from('{"a":1}\n\n{"b":2}\r\n  \n{"c":3}')]), ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  test('a space next to a read boundary inside a string is kept (Elasticsearch trims it away)', () => {
    assert.deepEqual(decode([Buffer.from('{"text":"a '), Buffer.from(' b"}\n')]), ['{"text":"a  b"}']);
  });

  test('maxFrameBytes is in bytes for every cut, also for invalid UTF-8 (each bad byte counts once)', () => {
    const outcome = (chunks: Buffer[], maxFrameBytes: number): string => {
      const lines: string[] = [];
      const d = new NdjsonDecoder({ maxFrameBytes });
      try {
        for (const c of chunks) d.write(c, (f) => lines.push(f.data));
        d.end((f) => lines.push(f.data));
        return JSON.stringify({ lines });
      } catch (err) {
        return JSON.stringify({ lines, error: (err as { type: string }).type });
      }
    };
    // 15 Greek letters (30 bytes, 15 units) in a string, then a line with bytes that are not UTF-8
    // (each becomes a 3-byte U+FFFD when decoded: the raw bytes are what counts).
    const greek = `{"t":"${'λ'.repeat(15)}"}`;
    const bad = Buffer.concat([Buffer.from('{"t":"'), Buffer.alloc(40, 0xff), Buffer.from('"}')]);
    const body = Buffer.concat([Buffer.from('{"ok":1}\n' + greek + '\n'), bad, Buffer.from('\n')]);
    for (const max of [Buffer.byteLength(greek) - 1, Buffer.byteLength(greek), bad.length - 1, bad.length]) {
      const results = new Set<string>();
      for (let i = 0; i <= body.length; i++) results.add(outcome(cutAt(body, [i]), max));
      results.add(outcome(cutEvery(body, 1), max));
      assert.equal(results.size, 1, `limit ${max}: ${[...results].join(' | ')}`);
    }
    assert.match(outcome([body], Buffer.byteLength(greek) - 1), /frame_exception/);
    assert.match(outcome([body], bad.length - 1), /frame_exception/);
    assert.doesNotMatch(outcome([body], bad.length), /frame_exception/);
  });

  test('UTF-8 cut between reads', () => {
    const body = Buffer.from('{"t":"中文🌍"}\n');
    for (let i = 1; i < body.length; i++) assert.deepEqual(decode(cutAt(body, [i])), ['{"t":"中文🌍"}']);
  });

  test('property: same lines as split2 (the line splitter the project was asked to use) for any cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'é', '🌍', ' ', '{', '}'), maxLength: 10 }), { maxLength: 10 }),
        fc.constantFrom('\n', '\r\n'),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (lines, eol, offsets) => {
          const body = Buffer.from(lines.map((l) => JSON.stringify(l)).join(eol));
          const viaSplit2: string[] = [];
          for await (const l of Readable.from(cutEvery(body, 3)).pipe(split2()))
            if (String(l).trim()) viaSplit2.push(String(l));
          assert.deepEqual(
            decode(
              cutAt(
                body,
                offsets.map((o) => o % (body.length + 1)),
              ),
            ),
            viaSplit2,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  test('ndjsonParser() as a Transform', async () => {
    const frames: Frame[] = [];
    for await (const f of source(cutEvery(Buffer.from('{"a":1}\n{"b":2}'), 1)).pipe(ndjsonParser())) frames.push(f);
    assert.deepEqual(
      frames.map((f) => f.data),
      ['{"a":1}', '{"b":2}'],
    );
  });
});

describe('NDJSON end of input', () => {
  test('a whole last line without newline counts; a cut one is incomplete_stream', () => {
    const d = new NdjsonDecoder();
    const got: string[] = [];
    d.write(Buffer.from('{"a":1}\n{"b":2}'), (f) => got.push(f.data));
    d.end((f) => got.push(f.data));
    assert.deepEqual(got, ['{"a":1}', '{"b":2}']);
    const e = new NdjsonDecoder();
    e.write(Buffer.from('{"a":1}\n{"b":'), () => {});
    assert.throws(() => e.end(() => {}), { type: 'incomplete_stream' });
  });
});
