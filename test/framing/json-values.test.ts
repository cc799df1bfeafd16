import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type Frame } from '../../lib/index.js';
import { JsonValuesDecoder, jsonArrayParser } from '../../lib/stages.js';
import { cutAt, cutEvery, source } from '../helpers/streams.js';

function decodeFull(
  mode: 'array' | 'sequence',
  chunks: Buffer[],
  maxFrameBytes?: number,
): { values: unknown[]; error: string | null; reason?: string } {
  const values: unknown[] = [];
  const d = new JsonValuesDecoder(mode, maxFrameBytes === undefined ? {} : { maxFrameBytes });
  const sink = (f: Frame) => values.push(JSON.parse(f.data));
  try {
    for (const c of chunks) d.write(c, sink);
    d.end(sink);
    return { values, error: null };
  } catch (err) {
    return { values, error: (err as { type: string }).type, reason: (err as { reason: string }).reason };
  }
}
function decode(mode: 'array' | 'sequence', chunks: Buffer[]): { values: unknown[]; error: string | null } {
  const { values, error } = decodeFull(mode, chunks);
  return { values, error };
}

describe('streamed JSON array', () => {
  test('pretty-printed elements split anywhere', () => {
    const body = Buffer.from('[{\n  "text": "a"\n}\n,\r\n{\n  "text": "b"\n}\n]');
    for (let i = 1; i < body.length; i++) {
      assert.deepEqual(
        decode('array', cutAt(body, [i])),
        { values: [{ text: 'a' }, { text: 'b' }], error: null },
        `cut ${i}`,
      );
    }
  });

  test('braces, brackets, commas and escaped quotes inside strings are text', () => {
    const tricky = [{ t: '} ] , { [ "' }, { t: 'back\\slash\\' }, { t: '\\"}' }, { t: 'é中🌍' }];
    const body = Buffer.from(JSON.stringify(tricky, null, 2));
    assert.deepEqual(decode('array', cutEvery(body, 1)), { values: tricky, error: null });
  });

  test('scalars, nested arrays and an empty array', () => {
    assert.deepEqual(decode('array', [Buffer.from('[1, "two", [3, [4]], null, true ,{"a":[]}]')]).values, [
      1,
      'two',
      [3, [4]],
      null,
      true,
      { a: [] },
    ]);
    assert.deepEqual(decode('array', [Buffer.from(' \n[ ] ')]), { values: [], error: null });
  });

  test('a BOM before the array, split across reads', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"a":1}]')]);
    assert.deepEqual(decode('array', cutEvery(body, 1)), { values: [{ a: 1 }], error: null });
  });

  test('missing ] is incomplete; a cut element is incomplete after the whole ones', () => {
    assert.deepEqual(decode('array', [Buffer.from('[{"a":1},{"b":2}')]), {
      values: [{ a: 1 }, { b: 2 }],
      error: 'incomplete_stream',
    });
    assert.deepEqual(decode('array', [Buffer.from('[{"a":1},{"b":')]), {
      values: [{ a: 1 }],
      error: 'incomplete_stream',
    });
  });

  test('garbage before the array is a parse error', () => {
    assert.equal(decode('array', [Buffer.from('x[1]')]).error, 'x_content_parse_exception');
  });

  test('exact array grammar: a misplaced comma, a missing comma or anything after ] is a clear parse error, in every cut', () => {
    const cases: [string, unknown[], RegExp][] = [
      ['[,{"k":"v"}]', [], /expected an element or \] after \[ in the JSON array, found ,/],
      ['[{"k":"v"}{"k":"w"}]', [{ k: 'v' }], /expected , or \] after an element of the JSON array, found \[\{\]/],
      ['[{"k":"v"} "s"]', [{ k: 'v' }], /expected , or \] after an element/],
      ['[{"k":"v"},]', [{ k: 'v' }], /expected an element after , in the JSON array, found \]/],
      ['[{"k":"v"},,{"k":"w"}]', [{ k: 'v' }], /expected an element after , in the JSON array, found ,/],
      ['[{"k":"v"}]{"error":{"code":500}}', [{ k: 'v' }], /unexpected \[\{\] after the closing \] of the JSON array/],
      ['[{"k":"v"}] ]', [{ k: 'v' }], /after the closing \]/],
      ['[{"k":"v"}]x', [{ k: 'v' }], /after the closing \]/],
      ['[7 8]', [7], /expected , or \] after an element/],
    ];
    for (const [text, values, reason] of cases) {
      const body = Buffer.from(text);
      for (let i = 0; i <= body.length; i++) {
        const got = decodeFull('array', cutAt(body, [i]));
        assert.deepEqual(got.values, values, `${text} cut at ${i}`);
        assert.equal(got.error, 'x_content_parse_exception', `${text} cut at ${i}`);
        assert.match(got.reason!, reason, `${text} cut at ${i}`);
      }
    }
    // Whitespace of every kind around the grammar is fine, also after the closing bracket.
    assert.deepEqual(decode('array', [Buffer.from('\r\n[ {"k":1} ,\t{"k":2}\n]\r\n \n')]), {
      values: [{ k: 1 }, { k: 2 }],
      error: null,
    });
  });

  test('the size limit counts bytes of a value, the same whether it arrives in one read or many', () => {
    // 20 three-byte characters: 60 bytes of text but only 20 UTF-16 units.
    const element = JSON.stringify({ t: '中'.repeat(20) });
    const bytes = Buffer.byteLength(element);
    const body = Buffer.from(`[${element}]`);
    for (const max of [bytes - 1, bytes]) {
      const results = new Set<string>();
      for (let i = 0; i <= body.length; i++) results.add(JSON.stringify(decodeFull('array', cutAt(body, [i]), max)));
      results.add(JSON.stringify(decodeFull('array', cutEvery(body, 1), max)));
      assert.equal(results.size, 1, `limit ${max}: ${[...results].join(' | ')}`);
      const [only] = [...results];
      assert.equal(JSON.parse(only!).error, max < bytes ? 'frame_exception' : null, `limit ${max}`);
    }
  });

  test('property: any cut gives the same elements', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 15 }),
        (values, pretty, offsets) => {
          const body = Buffer.from(JSON.stringify(values, null, pretty ? 2 : 0));
          const expected = { values: JSON.parse(body.toString()), error: null };
          assert.deepEqual(
            decode(
              'array',
              cutAt(
                body,
                offsets.map((o) => o % (body.length + 1)),
              ),
            ),
            expected,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test('jsonArrayParser() as a Transform', async () => {
    const frames: Frame[] = [];
    for await (const f of source(cutEvery(Buffer.from('[{"a":"}"},{"b":2}]'), 3)).pipe(jsonArrayParser()))
      frames.push(f);
    assert.deepEqual(
      frames.map((f) => JSON.parse(f.data)),
      [{ a: '}' }, { b: 2 }],
    );
  });
});

describe('JSON value sequence (JSON lines or one pretty body)', () => {
  test('JSON lines with blank lines and CRLF, no final newline', () => {
    assert.deepEqual(decode('sequence', cutEvery(Buffer.from('{"a":1}\r\n\r\n{"b":"x y"}\n{"c":3}'), 2)), {
      values: [{ a: 1 }, { b: 'x y' }, { c: 3 }],
      error: null,
    });
  });

  test('one pretty-printed body', () => {
    assert.deepEqual(decode('sequence', [Buffer.from('{\n  "error": {\n    "message": "no"\n  }\n}\n')]).values, [
      { error: { message: 'no' } },
    ]);
  });

  test('a value cut at the end is incomplete', () => {
    assert.deepEqual(decode('sequence', [Buffer.from('{"a":1}\n{"b":')]), {
      values: [{ a: 1 }],
      error: 'incomplete_stream',
    });
  });

  test('property: any cut of concatenated values gives the same values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 15 }),
        (values, offsets) => {
          const body = Buffer.from(values.map((v) => JSON.stringify(v)).join('\n'));
          const expected = { values: values.map((v) => JSON.parse(JSON.stringify(v))), error: null };
          assert.deepEqual(
            decode(
              'sequence',
              cutAt(
                body,
                offsets.map((o) => o % (body.length + 1)),
              ),
            ),
            expected,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('an object the read closes is parsed once, by the framing', () => {
  function frames(mode: 'array' | 'sequence', chunks: string[]): Frame[] {
    const out: Frame[] = [];
    const d = new JsonValuesDecoder(mode);
    for (const c of chunks) d.write(Buffer.from(c), (f) => out.push(f));
    d.end((f) => out.push(f));
    return out;
  }

  test('one element per read (how Gemini writes): each frame carries its parsed value', () => {
    const got = frames('array', ['[{"a": "x}"}', '\r\n,\r\n{"b": [1, {"c": 2}]}\n', ',{"d": "\\"}"}', ']']);
    assert.deepEqual(
      got.map((f) => f.data),
      ['{"a": "x}"}', '{"b": [1, {"c": 2}]}', '{"d": "\\"}"}'],
    );
    assert.deepEqual(
      got.map((f) => f.value),
      [{ a: 'x}' }, { b: [1, { c: 2 }] }, { d: '"}' }],
    );
  });

  test('several values in one read, or one cut short: found by scanning, same frames, nothing parsed twice', () => {
    const got = frames('sequence', ['{"a":1} {"b":2}\n', '{"c":', '3}']);
    assert.deepEqual(
      got.map((f) => f.data),
      ['{"a":1}', '{"b":2}', '{"c":3}'],
    );
    // The first read's guess (the read ends at `}`) fails: its values are scanned, not parsed here.
    assert.deepEqual(
      got.map((f) => f.value),
      [undefined, undefined, undefined],
    );
  });

  test('a malformed object that the read closes is handed on unparsed, for the provider to report', () => {
    const got = frames('array', ['[{"a": 1,}', ']']);
    assert.deepEqual(
      got.map((f) => [f.data, f.value]),
      [['{"a": 1,}', undefined]],
    );
  });
});
