import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { completionStream, InferenceError } from '../../lib/index.js';
import { serialize } from '../../lib/stages.js';
import fc from 'fast-check';
import { CompletionEventWriter, completionEvent } from '../../lib/output/serialize.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of stream) parts.push(Buffer.from(b as Buffer));
  return Buffer.concat(parts);
}

describe("Elasticsearch's bytes", () => {
  test('completion events, compact JSON, LF only, [DONE] at a clean end', async () => {
    const s = serialize();
    s.write([{ delta: 'Hello' }, { delta: ' "wörld"\n' }]);
    s.end([{ delta: '🌍' }]);
    assert.equal(
      (await readAll(s)).toString(),
      'event: message\ndata: {"completion":[{"delta":"Hello"},{"delta":" \\"wörld\\"\\n"}]}\n\n' +
        'event: message\ndata: {"completion":[{"delta":"🌍"}]}\n\n' +
        'event: message\ndata: [DONE]\n\n',
    );
  });

  test('bom: true writes U+FEFF before every event, as Elasticsearch does', async () => {
    const s = serialize({ bom: true });
    s.end([{ delta: 'a' }]);
    const bytes = await readAll(s);
    const bom = Buffer.from([0xef, 0xbb, 0xbf]).toString('latin1');
    assert.equal(
      bytes.toString('latin1'),
      bom + 'event: message\ndata: {"completion":[{"delta":"a"}]}\n\n' + bom + 'event: message\ndata: [DONE]\n\n',
    );
  });

  test('an error ends the stream with the error event and no [DONE]', async () => {
    const s = serialize();
    s.write([{ delta: 'a' }]);
    s.write(new InferenceError('status_exception', 'Received a rate limit status code', 429));
    s.end([{ delta: 'ignored' }]);
    assert.equal(
      (await readAll(s)).toString(),
      'event: message\ndata: {"completion":[{"delta":"a"}]}\n\n' +
        'event: error\ndata: {"error":{"root_cause":[{"type":"status_exception","reason":"Received a rate limit status code"}],"type":"status_exception","reason":"Received a rate limit status code"},"status":429}\n\n',
    );
  });

  test('completionStream with bom: an error event starts with the BOM too', async () => {
    const s = completionStream('openai', { bom: true, status: 429 });
    s.end(Buffer.from('{"error":{"message":"slow down"}}'));
    const text = (await readAll(s)).toString();
    assert.ok(text.startsWith('\uFEFFevent: error\ndata: '));
    const body = JSON.parse(text.split('data: ')[1]!);
    assert.equal(body.status, 429);
    assert.equal(body.error.type, 'status_exception');
  });
});

describe('CompletionEventWriter', () => {
  const unit = fc.oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0x7ff }),
    fc.integer({ min: 0x800, max: 0xffff }), // includes lone and paired surrogates
    fc.constantFrom(0x22, 0x5c, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x00, 0x1f, 0x7f, 0x2028, 0xfeff),
  );
  const text = fc.array(unit, { maxLength: 40 }).map((units) => String.fromCharCode(...units));
  const emoji = fc.constantFrom('🙂', '🌍', 'naïve', '日本語', '\ud83d', '\ude42', '\ude42\ud83d');
  const anyText = fc.oneof(text, emoji, fc.string());

  test('writes exactly the bytes of completionEvent, for any texts, in order, across block boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(anyText, { minLength: 1, maxLength: 6 }), { maxLength: 60 }),
        fc.boolean(),
        (events, bom) => {
          const parts: Buffer[] = [];
          const writer = new CompletionEventWriter(bom, (chunk) => parts.push(Buffer.from(chunk)));
          let expected = '';
          for (let i = 0; i < events.length; i++) {
            writer.append(events[i]!, events[i]!.length);
            expected += completionEvent(events[i]!, bom);
            // take after some events only: bursts of several events become one chunk
            if (i % 3 === 2) {
              const chunk = writer.take();
              if (chunk !== null) parts.push(Buffer.from(chunk));
            }
          }
          const rest = writer.take();
          if (rest !== null) parts.push(Buffer.from(rest));
          assert.equal(writer.pending, 0);
          assert.deepEqual(Buffer.concat(parts), Buffer.from(expected));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('an event larger than a block comes out whole, after the events pending before it', () => {
    const parts: Buffer[] = [];
    const writer = new CompletionEventWriter(false, (chunk) => parts.push(Buffer.from(chunk)));
    const big = 'x'.repeat(20000) + '"\n';
    writer.append(['a'], 1);
    writer.append([big, 'b'], 2);
    writer.append(['c'], 1);
    const rest = writer.take();
    assert.ok(rest !== null);
    parts.push(Buffer.from(rest));
    assert.equal(parts.length, 3);
    assert.equal(
      Buffer.concat(parts).toString(),
      completionEvent(['a']) + completionEvent([big, 'b']) + completionEvent(['c']),
    );
    assert.equal(writer.take(), null);
  });
});

describe('CompletionEventWriter: writers share one block', () => {
  test('interleaved writers: each gets exactly its own events, in order, and nothing handed over is overwritten', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            writer: fc.integer({ min: 0, max: 2 }),
            texts: fc.array(fc.oneof(fc.string(), fc.constantFrom('é"\\\n', 'x'.repeat(3000))), {
              minLength: 1,
              maxLength: 3,
            }),
            take: fc.boolean(),
          }),
          { maxLength: 80 },
        ),
        (steps) => {
          // Handed-over chunks are kept as they are (no copy): a later write into the shared block must not change them.
          const got: Buffer[][] = [[], [], []];
          const want = ['', '', ''];
          const writers = [0, 1, 2].map((w) => new CompletionEventWriter(false, (c) => got[w]!.push(c)));
          for (const step of steps) {
            const w = writers[step.writer]!;
            w.append(step.texts, step.texts.length);
            want[step.writer] += completionEvent(step.texts);
            if (step.take) {
              const c = w.take();
              if (c !== null) got[step.writer]!.push(c);
            }
          }
          for (let k = 0; k < 3; k++) {
            const rest = writers[k]!.take();
            if (rest !== null) got[k]!.push(rest);
            assert.equal(Buffer.concat(got[k]!).toString(), want[k]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
