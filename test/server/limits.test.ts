import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, checkEndpointCount, checkInferenceId, clientErrorResponse, resolveLimits } from '../../lib/server/limits.js';
import { bodyTooLarge, formatDuration, InferenceError, tooManyStreams } from '../../lib/errors.js';
import { StreamSlots } from '../../lib/server/slots.js';

describe('limits', () => {
  test('defaults, overrides and refused values', () => {
    assert.deepEqual(resolveLimits(), DEFAULT_LIMITS);
    assert.equal(resolveLimits({ maxBodyBytes: 10, idleTimeoutMs: 0 }).maxBodyBytes, 10);
    assert.equal(resolveLimits({ idleTimeoutMs: 0 }).idleTimeoutMs, 0, '0 turns a time limit off');
    assert.throws(() => resolveLimits({ maxBodyBytes: 0 }), /\[maxBodyBytes\] must be a positive integer/);
    assert.throws(() => resolveLimits({ idleTimeoutMs: -1 }), /non-negative/);
    assert.throws(() => resolveLimits({ maxConcurrentStreams: 1.5 }), /positive integer/);
    assert.throws(() => resolveLimits({ nope: 1 } as never), /Unknown limit \[nope\]/);
  });

  test('each error is Elasticsearch-shaped with its status', () => {
    assert.deepEqual(bodyTooLarge(5).toJSON(), { type: 'content_too_long_exception', reason: 'Request body is too large: more than [5] bytes', status: 413 });
    assert.equal(tooManyStreams(2).status, 429);
    assert.equal(tooManyStreams(2).type, 'es_rejected_execution_exception');
    assert.equal(formatDuration(30_000), '30s');
    assert.equal(formatDuration(600_000), '10m');
    assert.equal(formatDuration(1500), '1500ms');
  });

  test('inference ids: syntax and length', () => {
    checkInferenceId('my-endpoint_1', 64);
    checkInferenceId('a'.repeat(64), 64);
    assert.throws(
      () => checkInferenceId('a'.repeat(65), 64),
      (long: InferenceError) => long.status === 400 && /cannot contain more than 64 characters/.test(long.reason) && long.reason.length < 200,
      'a huge id is refused and not echoed whole',
    );
    for (const bad of ['-a', 'a-', 'A', 'a b', '', 'é', '_all']) {
      assert.throws(() => checkInferenceId(bad, 64), { type: 'action_request_validation_exception' }, bad);
    }
  });

  test('endpoint count', () => {
    checkEndpointCount(9, 10);
    assert.throws(() => checkEndpointCount(10, 10), /limit of \[10\] endpoints/);
  });

  test('stream slots: 429 when full, release is idempotent', () => {
    const slots = new StreamSlots(2);
    const a = slots.acquire();
    const b = slots.acquire();
    assert.equal(typeof a, 'function');
    assert.equal(typeof b, 'function');
    assert.throws(() => slots.acquire(), { status: 429 });
    a();
    a();
    assert.equal(slots.inUse, 1);
    assert.equal(typeof slots.acquire(), 'function');
    assert.equal(slots.inUse, 2);
  });

  test('the raw answer to an oversized request head', () => {
    const raw = clientErrorResponse('HPE_HEADER_OVERFLOW', 16384);
    const [head, body] = raw.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(head!, /Connection: close/);
    assert.equal(Number(/Content-Length: (\d+)/.exec(head!)![1]), Buffer.byteLength(body!));
    assert.deepEqual(JSON.parse(body!).error.type, 'too_long_http_header_exception');
    assert.match(clientErrorResponse('HPE_INVALID_METHOD', 1), /^HTTP\/1\.1 400 Bad Request/);
  });
});
