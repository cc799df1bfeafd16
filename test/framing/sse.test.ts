import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type Frame } from '../../lib/index.js';
import { SseDecoder, sseParser } from '../../lib/stages.js';
import { cutAt, cutEvery, source } from '../helpers/streams.js';

/** Decodes the chunks with the push-style decoder; returns frames, the end error if any, and the truncation report. */
function decodeWith(
  chunks: Buffer[],
  options: SseOptions,
): { frames: Frame[]; error: string | null; truncated?: boolean } {
  const frames: Frame[] = [];
  const d = new SseDecoder(options);
  const sink = (f: Frame) => frames.push(f);
  try {
    for (const c of chunks) d.write(c, sink);
    const truncated = d.end(sink);
    return truncated ? { frames, error: null, truncated } : { frames, error: null };
  } catch (err) {
    return { frames, error: (err as { type: string }).type };
  }
}
type SseOptions = ConstructorParameters<typeof SseDecoder>[0];
const decode = (chunks: Buffer[]) => decodeWith(chunks, {});
const all = (text: string | Buffer) => decode([typeof text === 'string' ? Buffer.from(text) : text]);
const allRaw = (text: string) => decodeWith([Buffer.from(text)], { rawJson: true });
const ev = (data: string, event = 'message', id = '') => ({ event, data, id });

describe('SSE framing (WHATWG event-stream rules)', () => {
  test('data-only events dispatch on a blank line', () => {
    assert.deepEqual(all('data: a\n\ndata: b\n\n').frames, [ev('a'), ev('b')]);
  });

  test('LF, CR and CRLF line ends, mixed', () => {
    assert.deepEqual(all('data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\n').frames, [
      ev('a'),
      ev('b'),
      ev('c'),
      ev('d'),
    ]);
  });

  test('CR at the end of one read and its LF at the start of the next is one line end', () => {
    const { frames } = decode([Buffer.from('data: a\r'), Buffer.from('\n\r'), Buffer.from('\ndata: b\r\n\r\n')]);
    assert.deepEqual(frames, [ev('a'), ev('b')]);
  });

  test('a lone CR then a new line in the next read keeps both lines', () => {
    const { frames } = decode([Buffer.from('data: a\r'), Buffer.from('data: b\r\r')]);
    assert.deepEqual(frames, [ev('a\nb')]);
  });

  test('exactly one space is stripped after the colon', () => {
    assert.deepEqual(all('data:x\n\ndata: x\n\ndata:  x\n\n').frames, [ev('x'), ev('x'), ev(' x')]);
  });

  test('multi-line data joined with \\n, empty data lines kept', () => {
    assert.deepEqual(all('data: a\ndata:\ndata: b\n\n').frames, [ev('a\n\nb')]);
  });

  test('a single empty data line dispatches an empty-data event', () => {
    assert.deepEqual(all('data\n\n').frames, [ev('')]);
    assert.deepEqual(all('data:\n\n').frames, [ev('')]);
  });

  test('comments are ignored, also between fields', () => {
    assert.deepEqual(all(': hi\n:\ndata: a\n: inside\ndata: b\n\n:HTTP_STATUS/200\n\n').frames, [ev('a\nb')]);
  });

  test('event names apply to one event only; empty event name means message', () => {
    assert.deepEqual(all('event: ping\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n').frames, [
      ev('1', 'ping'),
      ev('2'),
      ev('3'),
    ]);
  });

  test('event without data dispatches nothing and resets the name', () => {
    assert.deepEqual(all('event: x\n\ndata: y\n\n').frames, [ev('y')]);
  });

  test('id persists across events; an id with NUL is ignored', () => {
    assert.deepEqual(all('id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n').frames, [
      ev('a', 'message', '1'),
      ev('b', 'message', '1'),
      ev('c', 'message', '1'),
      ev('d', 'message', ''),
    ]);
  });

  test('retry and unknown fields are ignored; a field line without colon is a field with empty value', () => {
    assert.deepEqual(all('retry: 100\nfoo: bar\nfoo\ndata: a\n\n').frames, [ev('a')]);
  });

  test('field names are case-sensitive', () => {
    assert.deepEqual(all('Data: a\ndata: b\n\n').frames, [ev('b')]);
  });

  test('a BOM is stripped at the start of the stream only, also when split across reads', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const body = Buffer.concat([bom, Buffer.from('data: a\n\n')]);
    assert.deepEqual(decode(cutEvery(body, 1)).frames, [ev('a')]);
    // A second BOM (as Elasticsearch writes before every event) makes a field name that is not `data`:
    // the line is ignored, as a browser ignores it, also when the provider reads bare JSON.
    const twice = Buffer.concat([bom, bom, Buffer.from('data: a\n\n')]);
    assert.deepEqual(all(twice), { frames: [], error: null });
    assert.deepEqual(decodeWith([twice], { rawJson: true }), { frames: [], error: null });
    const later = Buffer.concat([Buffer.from('data: one\n\n'), bom, Buffer.from('data: two\n\ndata: three\n\n')]);
    assert.deepEqual(all(later).frames, [ev('one'), ev('three')]);
  });

  test('a line is a field only when its name, up to the first colon, is exactly data, event, id or retry', () => {
    // Our own lines: a leading space, a NUL inside the name, a tab, an upper-case name, a name with a suffix.
    const body = [
      ' data: lead',
      'da\0ta: nul',
      '\tdata: tab',
      'DATA: upper',
      'datas: suffix',
      'data : spaced',
      'data:kept',
      '',
      '',
    ].join('\n');
    assert.deepEqual(all(body), { frames: [ev('kept')], error: null });
    assert.deepEqual(decodeWith([Buffer.from(body)], { rawJson: true }), { frames: [ev('kept')], error: null });
    // A name without colon is the whole line; `data` alone is an empty data line, `event` alone clears the name.
    assert.deepEqual(all('event: x\nevent\ndata\n\n'), { frames: [ev('')], error: null });
    // Text that merely looks like JSON or prose is ignored without the raw option.
    assert.deepEqual(all('{"error":"boom"}\nWell: no\nno colon here\n\n'), { frames: [], error: null });
  });

  test('UTF-8 characters cut between reads come out whole', () => {
    const body = Buffer.from('data: ü€🌍中\n\n');
    for (let i = 1; i < body.length; i++) {
      assert.deepEqual(decode(cutAt(body, [i])).frames, [ev('ü€🌍中')], `cut at ${i}`);
    }
  });

  test('an event left unterminated at end of input is dropped (WHATWG) and reported as truncation, not an error', () => {
    assert.deepEqual(all('data: a\n\ndata: b\n'), { frames: [ev('a')], error: null, truncated: true });
    assert.deepEqual(all('data: a\n\ndata: b'), { frames: [ev('a')], error: null, truncated: true });
    assert.deepEqual(all('data: a\n\ndata: b\n\ndata'), { frames: [ev('a'), ev('b')], error: null, truncated: true });
    // Nothing with data pending: not a truncation.
    assert.deepEqual(all('data: a\n\n'), { frames: [ev('a')], error: null });
    assert.deepEqual(all('data: a\n\nevent: named\n'), { frames: [ev('a')], error: null });
    assert.deepEqual(all('data: a\n\nevent: half'), { frames: [ev('a')], error: null });
  });

  test('trailing comment or blank lines at end of input are fine', () => {
    assert.deepEqual(all('data: a\n\n: bye'), { frames: [ev('a')], error: null });
    assert.deepEqual(all('data: a\n\n\n\n'), { frames: [ev('a')], error: null });
    assert.deepEqual(all(''), { frames: [], error: null });
  });

  test('with rawJson, bare JSON outside the fields comes out as one raw frame (Vertex AI writes errors like this)', () => {
    const body = 'data: a\r\n\r\n{\n  "error": {\n    "code": 499,\n    "message": "cancelled"\n  }\n}\n';
    const { frames, error } = allRaw(body);
    assert.equal(error, null);
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0], ev('a'));
    assert.equal(frames[1]!.raw, true);
    assert.deepEqual(JSON.parse(frames[1]!.data), { error: { code: 499, message: 'cancelled' } });
    // Unterminated at the very end, compact, or an array: still handed on.
    assert.deepEqual(allRaw('data: a\n\n[{"error":{"code":8}}]').frames[1], {
      event: '',
      data: '[{"error":{"code":8}}]',
      id: '',
      raw: true,
    });
    // Without the option the same body is only the event, as a browser sees it.
    assert.deepEqual(all(body), { frames: [ev('a')], error: null });
    // Prose is never raw: only a line opening with { or [ starts one.
    assert.deepEqual(allRaw('Well, this is unexpected\n\n'), { frames: [], error: null });
  });

  test('a line longer than the limit is an error, not unbounded memory', () => {
    const d = new SseDecoder({ maxFrameBytes: 1024 });
    assert.throws(() => d.write(Buffer.alloc(2048, 0x61), () => {}), { type: 'frame_exception' });
    const e = new SseDecoder({ maxFrameBytes: 1024 });
    const lines = Buffer.from(('data: ' + 'x'.repeat(100) + '\n').repeat(20));
    assert.throws(() => e.write(lines, () => {}), { type: 'frame_exception' });
  });

  test('maxFrameBytes counts UTF-8 bytes: a line of multi-byte text passes or fails the same for every cut', () => {
    // 'ö' is 2 bytes, '€' 3, '🎈' 4 (2 UTF-16 units): the line is 6 + 3 * (2 + 3 + 4) * 4 = 114 bytes, far fewer units.
    const value = 'ö€🎈'.repeat(12);
    const head = 'data: first\n\n';
    const body = Buffer.from(`${head}data: ${value}\n\n`);
    const line = Buffer.byteLength(`data: ${value}`);
    for (const max of [line - 1, line, line + 1]) {
      const results = new Set<string>();
      for (let i = 0; i <= body.length; i++)
        results.add(JSON.stringify(decodeWith(cutAt(body, [i]), { maxFrameBytes: max })));
      results.add(JSON.stringify(decodeWith(cutEvery(body, 1), { maxFrameBytes: max })));
      assert.equal(results.size, 1, `limit ${max}: ${[...results].join(' | ')}`);
      const expected =
        max < line
          ? { frames: [ev('first')], error: 'frame_exception' }
          : { frames: [ev('first'), ev(value)], error: null };
      assert.deepEqual(JSON.parse([...results][0]!), expected, `limit ${max}`);
    }
    // The event limit is in bytes too: two data lines whose values hold 2 * 60 bytes (but 2 * 20 units).
    const twoLines = Buffer.from(`data: ${'中'.repeat(20)}\ndata: ${'中'.repeat(20)}\n\n`);
    for (const cut of [[], [10], [70], [75]]) {
      assert.equal(decodeWith(cutAt(twoLines, cut), { maxFrameBytes: 100 }).error, 'frame_exception', `cut ${cut}`);
      assert.equal(decodeWith(cutAt(twoLines, cut), { maxFrameBytes: 130 }).error, null, `cut ${cut}`);
    }
  });

  test('property: any cut of any event stream gives the same frames as the whole input', () => {
    const field = fc.constantFrom('data', 'event', 'id', 'retry', ':', 'data:', 'foo');
    const text = fc.string({ unit: fc.constantFrom('a', ' ', ':', 'é', '🌍', '中', '\0', 'x'), maxLength: 8 });
    const eol = fc.constantFrom('\n', '\r', '\r\n');
    const line = fc.tuple(field, text, eol).map(([f, t, e]) => (f === ':' ? ':' + t : f + ': ' + t) + e);
    const stream = fc.array(fc.oneof(line, eol), { maxLength: 30 }).map((parts) => Buffer.from(parts.join('')));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 20 }), (body, offsets) => {
        const whole = all(body);
        assert.deepEqual(
          decode(
            cutAt(
              body,
              offsets.map((o) => o % (body.length + 1)),
            ),
          ),
          whole,
        );
        assert.deepEqual(decode(cutEvery(body, 1)), whole);
      }),
      { numRuns: 300 },
    );
  });

  test('sseParser() as a Transform: frames out, the unterminated last event dropped and reported in `truncated`', async () => {
    const frames: Frame[] = [];
    const parser = sseParser();
    for await (const f of source(cutEvery(Buffer.from('data: a\n\ndata: b\n\ndata: c'), 2)).pipe(parser))
      frames.push(f);
    assert.deepEqual(frames, [ev('a'), ev('b')]);
    assert.equal(parser.truncated, true);
    const whole = sseParser();
    for await (const f of source([Buffer.from('data: a\n\n')]).pipe(whole)) frames.push(f);
    assert.equal(whole.truncated, false);
  });

  test('linear time: one 8 MiB event in 1460-byte reads is decoded once', () => {
    const big = Buffer.concat([Buffer.from('data: '), Buffer.alloc(8 * 1024 * 1024, 0x61), Buffer.from('\n\n')]);
    const frames: Frame[] = [];
    const d = new SseDecoder();
    for (const c of cutEvery(big, 1460)) d.write(c, (f) => frames.push(f));
    d.end(() => {});
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.data.length, 8 * 1024 * 1024);
  });
});
