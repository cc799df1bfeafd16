// With a consumer that stops reading, every stage stops pulling from its source: the
// bytes the source manages to hand over stay bounded whatever the input size.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable, type Duplex } from 'node:stream';
import { chatCompletionStream, completionStream, deltaStream } from '../../lib/index.js';
import { sseParser, normalize, batch } from '../../lib/stages.js';
import { GeneratedOpenAiStream, settle } from '../helpers/generated.js';

/** Pipes a generated stream of `events` into the stages and never reads; returns the bytes handed over once it stops. */
async function stalled(events: number, stages: () => Duplex[]): Promise<number> {
  const src = new GeneratedOpenAiStream(events);
  const chain = stages();
  let tail: NodeJS.ReadableStream = src;
  for (const s of chain) tail = tail.pipe(s);
  await once(src, 'pause');
  await settle(50); // let every queued callback run: if anything still pulls, it shows here
  const before = src.handedOver;
  await settle(50);
  assert.equal(src.handedOver, before, 'the source is no longer pulled');
  for (const s of chain) s.destroy();
  src.destroy();
  return before;
}

const stageSets: Record<string, () => Duplex[]> = {
  completionStream: () => [completionStream('openai')],
  chatCompletionStream: () => [chatCompletionStream('openai')],
  deltaStream: () => [deltaStream('openai')],
  'sseParser | normalize | batch': () => [sseParser(), normalize('openai'), batch()],
};

describe('backpressure: a stalled consumer stops the source', () => {
  for (const [name, stages] of Object.entries(stageSets)) {
    test(name, async () => {
      const small = await stalled(20_000, stages);
      const large = await stalled(200_000, stages);
      if (process.env.SHOW_BACKPRESSURE) console.log(name, small, large);
      // ~110 bytes per event: the whole large input is ~22 MB. What got through is a few
      // highWaterMarks' worth, the same for both sizes.
      assert.ok(small < 512 * 1024, `${small} bytes handed over`);
      assert.ok(large < 512 * 1024, `${large} bytes handed over`);
      assert.ok(Math.abs(large - small) < 64 * 1024, `flat in input size: ${small} vs ${large}`);
    });
  }

  test('a slow consumer gets everything, in order', async () => {
    const src = new GeneratedOpenAiStream(3000, 'ab');
    let text = '';
    let events = 0;
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk, _enc, cb) {
        text += chunk;
        events++;
        setImmediate(cb);
      },
    });
    src.pipe(completionStream('openai')).pipe(slow);
    await once(slow, 'finish');
    const deltas = [...text.matchAll(/\{"delta":"ab"\}/g)].length;
    assert.equal(deltas, 3000);
    assert.ok(text.endsWith('event: message\ndata: [DONE]\n\n'));
    assert.ok(events <= 3001);
  });
});
