import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, clientErrorResponse, resolveLimits } from '../../lib/server/limits.js';
import { bodyTooLarge, formatDuration, tooManyStreams } from '../../lib/errors.js';
import { validateInferenceId } from '../../lib/server/endpoints.js';
import type { InferenceError } from '../../lib/errors.js';
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
    // inherited names are no limits either
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.throws(() => resolveLimits(JSON.parse(`{"${name}":5}`)), /Unknown limit/, name);
    }
    assert.equal(
      DEFAULT_LIMITS.maxConnections > DEFAULT_LIMITS.maxConcurrentStreams,
      true,
      'connections bounded, above the stream limit',
    );
  });

  test('each error is Elasticsearch-shaped with its status', () => {
    assert.deepEqual(bodyTooLarge(5).toJSON(), {
      type: 'content_too_long_exception',
      reason: 'Request body is too large: more than [5] bytes',
      status: 413,
    });
    assert.equal(tooManyStreams(2).status, 429);
    assert.equal(tooManyStreams(2).type, 'es_rejected_execution_exception');
    assert.equal(formatDuration(30_000), '30s');
    assert.equal(formatDuration(600_000), '10m');
    assert.equal(formatDuration(1500), '1500ms');
  });

  test('inference ids: syntax and length', () => {
    const error = (id: string): InferenceError | null => {
      try {
        validateInferenceId(id, 64);
        return null;
      } catch (err) {
        return err as InferenceError;
      }
    };
    assert.equal(error('my-endpoint_1'), null);
    assert.equal(error('a'.repeat(64)), null);
    const long = error('a'.repeat(65));
    assert.ok(long && long.status === 400 && /cannot contain more than 64 characters/.test(long.reason));
    assert.ok(long.reason.length < 200, 'a huge id is not echoed whole');
    for (const bad of ['-a', 'a-', 'A', 'a b', '', 'é', '_all'])
      assert.equal(error(bad)?.type, 'action_request_validation_exception', bad);
  });

  test('stream slots: 429 when full, release is idempotent', () => {
    const slots = new StreamSlots(2);
    const a = slots.acquire();
    const b = slots.acquire();
    assert.equal(typeof a, 'function');
    assert.equal(typeof b, 'function');
    assert.equal(slots.acquire(), null, 'full');
    (a as () => void)();
    (a as () => void)();
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
    assert.match(
      clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT', 1),
      /^HTTP\/1\.1 408 Request Timeout[^]*"timeout_exception"/,
    );
  });
});
