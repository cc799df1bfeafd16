import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { StreamSlots } from '../../lib/server/slots.js';
import { callUpstream } from '../../lib/server/upstream.js';

const answer = (status: number) => ({ status, contentType: 'text/event-stream', body: new PassThrough() });

describe('callUpstream', () => {
  test('a full server answers 429 without calling the provider', async () => {
    const slots = new StreamSlots(1);
    const held = slots.acquire();
    let calls = 0;
    await assert.rejects(callUpstream(async () => (calls++, answer(200)), { slots }), (err: { status: number; type: string }) => err.status === 429 && err.type === 'es_rejected_execution_exception');
    assert.equal(calls, 0);
    held();
    const { release } = await callUpstream(async () => (calls++, answer(200)), { slots });
    assert.equal(slots.inUse, 1, 'the slot is held for the whole answer');
    release();
    assert.equal(slots.inUse, 0);
  });

  test('retried answers are discarded (their sockets closed); a failure frees the slot', async () => {
    const slots = new StreamSlots(1);
    const bodies: PassThrough[] = [];
    const { upstream, release } = await callUpstream(
      async () => {
        const a = answer(bodies.length < 2 ? 503 : 200);
        bodies.push(a.body);
        return a;
      },
      { slots, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 0, retryStatuses: [503] } },
    );
    assert.equal(upstream.status, 200);
    assert.deepEqual(bodies.map((b) => b.destroyed), [true, true, false]);
    release();
    await assert.rejects(callUpstream(async () => { throw new Error('boom'); }, { slots }), /boom/);
    assert.equal(slots.inUse, 0);
  });
});
