import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { overdue, watchUpstream } from '../../lib/server/watchdog.js';
import type { InferenceError } from '../../lib/errors.js';

const limits = { firstByteTimeoutMs: 1000, idleTimeoutMs: 500, maxStreamDurationMs: 10_000 };

describe('overdue (pure)', () => {
  test('first byte, idle gap and total duration', () => {
    const s = (lastChunkAt: number | null, waitingOnReader = false) => ({ startedAt: 0, lastChunkAt, waitingOnReader });
    assert.equal(overdue(s(null), 999, limits), null);
    assert.match(overdue(s(null), 1000, limits)!.reason, /\[1s\].*first byte/);
    assert.equal(overdue(s(800), 1299, limits), null);
    assert.match(overdue(s(800), 1300, limits)!.reason, /sent nothing for \[500ms\]/);
    assert.equal(overdue(s(800, true), 5000, limits), null, 'our slow reader is not the provider idling');
    assert.match(overdue(s(9999, true), 10_000, limits)!.reason, /maximum duration of \[10s\]/);
    assert.equal(
      overdue(s(null), 1e9, { firstByteTimeoutMs: 0, idleTimeoutMs: 0, maxStreamDurationMs: 0 }),
      null,
      '0 = no limit',
    );
    assert.equal(overdue(s(null), 1000, limits)!.status, 408);
  });
});

describe('watchUpstream (mocked clock)', () => {
  test('a body that never sends its first byte', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const body = new PassThrough();
    body.pipe(new Writable({ write: (_c, _e, cb) => cb() }));
    const seen: InferenceError[] = [];
    watchUpstream(body, limits, (e) => seen.push(e));
    t.mock.timers.tick(999);
    assert.equal(seen.length, 0);
    t.mock.timers.tick(1);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.reason, /first byte/);
    t.mock.timers.tick(60_000);
    assert.equal(seen.length, 1, 'reported once');
  });

  test('chunks keep it alive; a gap ends it; a finished body stops the watch', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const body = new PassThrough();
    body.pipe(new Writable({ write: (_c, _e, cb) => cb() }));
    const seen: InferenceError[] = [];
    watchUpstream(body, limits, (e) => seen.push(e));
    for (let i = 0; i < 10; i++) {
      t.mock.timers.tick(400);
      body.write('x');
    }
    assert.equal(seen.length, 0);
    t.mock.timers.tick(500);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.reason, /sent nothing/);

    const done = new PassThrough();
    done.pipe(new Writable({ write: (_c, _e, cb) => cb() }));
    const none: InferenceError[] = [];
    const stop = watchUpstream(done, limits, (e) => none.push(e));
    done.write('x');
    stop();
    t.mock.timers.tick(100_000);
    assert.equal(none.length, 0);
  });

  test('a paused reader (slow client) does not count as provider silence, but the total duration does', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const body = new PassThrough();
    const seen: InferenceError[] = [];
    body.on('data', () => {});
    watchUpstream(body, limits, (e) => seen.push(e));
    body.write('x');
    body.pause(); // what pipe() does when the destination is full
    t.mock.timers.tick(9_999);
    assert.equal(seen.length, 0);
    t.mock.timers.tick(1);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.reason, /maximum duration/);
  });
});
