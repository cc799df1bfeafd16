// completionStream pushes the events of reads written in the same tick as one chunk, and
// never holds an event past the end of its tick.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { completionStream } from '../../lib/index.js';

const chunk = (text: string) => Buffer.from(`data: {"choices":[{"index":0,"delta":{"content":"${text}"}}]}\n\n`);
const event = (text: string) => `event: message\ndata: {"completion":[{"delta":"${text}"}]}\n\n`;
const DONE = Buffer.from('data: [DONE]\n\n');
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('completionStream: one chunk per tick', () => {
  test('three reads in one tick: three events in one chunk, pushed at the end of that tick', async () => {
    const s = completionStream('openai');
    const chunks: string[] = [];
    s.on('data', (c: Buffer) => chunks.push(c.toString()));
    s.write(chunk('a'));
    s.write(chunk('b'));
    s.write(chunk('c'));
    assert.deepEqual(chunks, [], 'nothing pushed before the tick ends');
    await tick();
    assert.deepEqual(chunks, [event('a') + event('b') + event('c')]);
    // A read alone in a later tick is not held for company.
    s.write(chunk('d'));
    await tick();
    assert.deepEqual(chunks.slice(1), [event('d')]);
    s.end(DONE);
    await new Promise((resolve) => s.once('end', resolve));
    assert.equal(
      chunks.join(''),
      event('a') + event('b') + event('c') + event('d') + 'event: message\ndata: [DONE]\n\n',
    );
  });

  test('a long burst is pushed every 8 events, so the first waits for few others', async () => {
    const s = completionStream('openai');
    const chunks: string[] = [];
    s.on('data', (c: Buffer) => chunks.push(c.toString()));
    const texts = 'abcdefghij'.split('');
    for (const t of texts) s.write(chunk(t));
    assert.equal(chunks.length, 1, 'the first 8 events went at once');
    assert.equal(chunks[0], texts.slice(0, 8).map(event).join(''));
    await tick();
    assert.deepEqual(chunks.slice(1), [event('i') + event('j')]);
    s.destroy();
  });

  test('the end of the input pushes what the tick wrote before [DONE]', async () => {
    const s = completionStream('openai');
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString()));
    s.write(chunk('x'));
    s.write(chunk('y'));
    s.end(DONE);
    await new Promise((resolve) => s.once('end', resolve));
    assert.equal(text, event('x') + event('y') + 'event: message\ndata: [DONE]\n\n');
  });

  test('an error after events of the same tick: the events first, then the error event', async () => {
    const s = completionStream('openai');
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString()));
    s.write(chunk('x'));
    s.fail(new Error('upstream went away'));
    await new Promise((resolve) => s.once('end', resolve));
    assert.ok(text.startsWith(event('x') + 'event: error\ndata: '), text);
  });

  test('nobody reading: the readable side holds at most its high-water mark plus one event', async () => {
    const s = completionStream('openai', { highWaterMark: 1024 });
    const text = 'z'.repeat(100);
    let accepted = 0;
    // Write until the stream asks us to stop, tick after tick, as a source honouring backpressure does.
    for (let round = 0; round < 50; round++) {
      let ok = true;
      for (let i = 0; i < 5 && ok; i++) {
        ok = s.write(chunk(text));
        accepted++;
      }
      await tick();
      if (!ok) break;
    }
    const oneEvent = Buffer.byteLength(event(text));
    assert.ok(s.readableLength > 0, 'events are buffered for the reader');
    assert.ok(s.readableLength <= 1024 + oneEvent, `${s.readableLength} bytes buffered`);
    assert.ok(accepted < 50 * 5, 'the writer was asked to stop');
    s.destroy();
  });

  test('destroyed with events pending in the tick: nothing is pushed afterwards and nothing throws', async () => {
    const s = completionStream('openai');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    s.write(chunk('a'));
    s.destroy();
    await tick();
    assert.equal(chunks.length, 0);
    assert.ok(s.destroyed);
  });
});
