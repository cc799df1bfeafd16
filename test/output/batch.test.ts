import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { completionStream, type TextDelta } from '../../lib/index.js';
import { Batcher, batch } from '../../lib/stages.js';
import { parseEsEvents } from '../helpers/streams.js';
import { GeneratedOpenAiStream, settle } from '../helpers/generated.js';

const chunk = (text: string) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}}}]}\n\n`;
const texts = (sse: string) =>
  parseEsEvents(sse)
    .filter((e) => e.event === 'message' && e.data !== '[DONE]')
    .map((e) => (JSON.parse(e.data) as { completion: TextDelta[] }).completion.map((d) => d.delta));

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const b of stream) s += b;
  return s;
}

describe('batching in completionStream', () => {
  test('all deltas of one upstream read go into one completion array', async () => {
    const s = completionStream('openai');
    s.end(Buffer.from(chunk('a') + chunk('b') + chunk('c') + 'data: [DONE]\n\n'));
    assert.deepEqual(texts(await readAll(s)), [['a', 'b', 'c']]);
  });

  test('a consumer that keeps up gets one event per read, in order', async () => {
    const s = completionStream('openai');
    const out: string[] = [];
    s.on('data', (b) => out.push(String(b)));
    for (const t of ['x', 'y', 'z']) {
      s.write(Buffer.from(chunk(t)));
      await settle(2);
    }
    s.end(Buffer.from('data: [DONE]\n\n'));
    await once(s, 'end');
    assert.deepEqual(texts(out.join('')), [['x'], ['y'], ['z']]);
  });

  test('the first delta is never delayed, also with maxDelayMs', async () => {
    const s = completionStream('openai', { maxDelayMs: 60_000 });
    const first = once(s, 'data');
    s.write(Buffer.from(chunk('first')));
    const [b] = await first;
    assert.deepEqual(texts(String(b)), [['first']]);
    // Within maxDelayMs the next deltas wait; at the end they go out together, before [DONE].
    s.write(Buffer.from(chunk('second')));
    s.write(Buffer.from(chunk('third')));
    await settle();
    const rest: string[] = [];
    s.on('data', (x) => rest.push(String(x)));
    s.end(Buffer.from('data: [DONE]\n\n'));
    await once(s, 'end');
    const events = parseEsEvents(rest.join(''));
    assert.deepEqual(texts(rest.join('')), [['second', 'third']]);
    assert.equal(events.at(-1)!.data, '[DONE]');
  });

  test('while the consumer is not reading, reads coalesce up to maxDeltas; nothing is lost or reordered', async () => {
    const src = new GeneratedOpenAiStream(5000, 'w');
    const s = completionStream('openai', { maxDeltas: 100, highWaterMark: 1024 });
    src.pipe(s);
    await once(src, 'pause'); // the pipeline pushed back: the consumer is not reading
    await settle();
    const out = await readAll(s);
    const batches = texts(out);
    assert.equal(batches.flat().length, 5000);
    assert.ok(
      batches.every((b) => b.length <= 100),
      'no batch over maxDeltas',
    );
    assert.ok(batches.length < 5000, `coalesced into ${batches.length} events`);
    assert.ok(batches.some((b) => b.length > 1));
  });

  test('maxBytes bounds a coalesced array', async () => {
    const src = new GeneratedOpenAiStream(2000, 'x'.repeat(50));
    const s = completionStream('openai', { maxBytes: 1000, highWaterMark: 1024 });
    src.pipe(s);
    await once(src, 'pause');
    const batches = texts(await readAll(s));
    assert.equal(batches.flat().join('').length, 2000 * 50);
    // A batch stops growing once it reaches maxBytes: at most one delta past the bound.
    assert.ok(
      batches.every((b) => b.join('').length < 1000 + 50),
      'bounded',
    );
  });
});

describe('batch() on its own', () => {
  test('an array written is one read; single deltas batch as they come; non-answer objects are dropped', async () => {
    const b = batch();
    const out: TextDelta[][] = [];
    b.on('data', (x: TextDelta[]) => out.push(x));
    b.write([{ delta: 'a' }, { reasoning: 'r' }, { delta: 'b' }]);
    await settle(2);
    b.write({ delta: 'c' });
    await settle(2);
    b.write({ finish_reason: 'stop' });
    b.end();
    await once(b, 'end');
    assert.deepEqual(out, [[{ delta: 'a' }, { delta: 'b' }], [{ delta: 'c' }]]);
  });

  test('coalesces while its consumer is not reading, never splitting a delta', async () => {
    const b = batch({ highWaterMark: 1, maxDeltas: 10 });
    for (let i = 0; i < 50; i++) b.write({ delta: String(i) });
    b.end();
    const out: TextDelta[][] = [];
    for await (const x of b) out.push(x as TextDelta[]);
    assert.deepEqual(
      out.flat().map((d) => d.delta),
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
    assert.ok(out.length < 50 && out.every((x) => x.length <= 10));
  });
});

describe('Batcher with texts held as tokens', () => {
  test('take() gives every text, the held tokens decoded, in order; the next batch holds none', () => {
    const b = new Batcher();
    const raw = Buffer.from('xx"a\\"b\\n"yy"é"');
    b.addText('first');
    b.addToken(raw, 2, 10);
    b.add([{ delta: 'mid' }, { reasoning: 'not an answer' }]);
    b.addToken(raw, 12, 16);
    assert.equal(b.pending, 4);
    assert.ok(b.tokens !== null);
    assert.deepEqual(b.peek().slice(0, 4), ['first', '', 'mid', '']);
    assert.deepEqual(b.take(0), ['first', 'a"b\n', 'mid', 'é']);
    assert.equal(b.tokens, null);
    b.addText('next');
    assert.equal(b.tokens, null);
    assert.deepEqual(b.take(0), ['next']);
  });
});
