import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableError,
  parseRetryAfter,
  retryDelay,
  withRetry,
  type RetryPolicy,
} from '../../lib/server/retry.js';

const policy: RetryPolicy = {
  ...DEFAULT_RETRY_POLICY,
  maxAttempts: 3,
  baseDelayMs: 10,
  maxDelayMs: 40,
  maxRetryAfterMs: 1000,
};

describe('retry policy (pure)', () => {
  test('Retry-After: seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(['0'], now), 0);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:05 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(undefined, now), null);
    assert.equal(parseRetryAfter('-1', now), null);
  });

  test('full jitter within the exponential cap; Retry-After wins; tries, deadline and long waits stop it', () => {
    assert.equal(
      retryDelay(1, policy, null, Infinity, () => 0.999),
      9,
    );
    assert.equal(
      retryDelay(2, policy, null, Infinity, () => 0.999),
      19,
    );
    assert.equal(
      retryDelay(2, policy, null, Infinity, () => 0),
      0,
    );
    assert.equal(
      retryDelay(2, { ...policy, maxAttempts: 9 }, null, Infinity, () => 0.999),
      19,
    );
    assert.equal(
      retryDelay(6, { ...policy, maxAttempts: 9 }, null, Infinity, () => 0.999),
      39,
      'capped at maxDelayMs',
    );
    assert.equal(retryDelay(1, policy, 700, Infinity), 700);
    assert.equal(retryDelay(1, policy, 1001, Infinity), null, 'Retry-After beyond maxRetryAfterMs: give up');
    assert.equal(retryDelay(3, policy, null), null, 'out of tries');
    assert.equal(retryDelay(1, policy, 700, 500), null, 'would pass the deadline');
  });

  test('connection errors are retryable (also as a cause), others are not', () => {
    assert.ok(isRetryableError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })));
    assert.ok(
      isRetryableError(new Error('wrapped', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_SOCKET' }) })),
    );
    assert.ok(!isRetryableError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' })));
    assert.ok(!isRetryableError(new Error('plain')));
    assert.ok(!isRetryableError(null));
  });
});

describe('withRetry', () => {
  const response = (status: number, retryAfter?: string) => {
    const r = { status, retryAfter, discarded: false, discard: () => (r.discarded = true) };
    return r;
  };

  test('retries 503 then returns the 200; discards the dropped responses', async () => {
    const seen: ReturnType<typeof response>[] = [];
    const retries: number[] = [];
    const r = await withRetry(
      async (n) => {
        const res = response(n < 3 ? 503 : 200);
        seen.push(res);
        return res;
      },
      { policy, onRetry: (i) => retries.push(i.status!) },
    );
    assert.equal(r.status, 200);
    assert.deepEqual(
      seen.map((s) => s.discarded),
      [true, true, false],
    );
    assert.deepEqual(retries, [503, 503]);
  });

  test('a 400 is returned at once; the last 429 is returned when tries run out', async () => {
    let calls = 0;
    assert.equal((await withRetry(async () => (calls++, response(400)), { policy })).status, 400);
    assert.equal(calls, 1);
    calls = 0;
    const last = await withRetry(async () => (calls++, response(429, '0')), { policy });
    assert.equal(last.status, 429);
    assert.equal(calls, 3);
    assert.equal(last.discarded, false, 'the answer given back is not discarded');
  });

  test('a Retry-After too long is not waited for', async () => {
    let calls = 0;
    const r = await withRetry(async () => (calls++, response(429, '3600')), { policy });
    assert.equal(r.status, 429);
    assert.equal(calls, 1);
  });

  test('connection errors are retried, then thrown; other errors are thrown at once', async () => {
    let calls = 0;
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw refused;
        },
        { policy },
      ),
      refused,
    );
    assert.equal(calls, 3);
    calls = 0;
    const other = new Error('bad');
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw other;
        },
        { policy },
      ),
      other,
    );
    assert.equal(calls, 1);
  });

  test('an abort during the wait stops at once with the last error', async () => {
    const controller = new AbortController();
    const refused = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    let calls = 0;
    const p = withRetry(
      async () => {
        calls++;
        queueMicrotask(() => controller.abort());
        throw refused;
      },
      { policy: { ...policy, baseDelayMs: 60_000, maxDelayMs: 60_000 }, signal: controller.signal, random: () => 0.5 },
    );
    await assert.rejects(p, refused);
    assert.equal(calls, 1);
  });
});
