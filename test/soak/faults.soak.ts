// Every provider fault: the client gets a clear error (status before the stream, `event: error`
// after), the provider socket is closed, the server keeps serving, and retries happen only
// before the first byte went to the client.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FAULTS, type Fault } from '../helpers/bad-provider.js';
import {
  EXPECTED,
  SECRET,
  call,
  mismatch,
  openStream,
  registerFault,
  startProxy,
  stream,
  type Proxy,
} from '../server/harness.js';

const limits = {
  firstByteTimeoutMs: 300,
  idleTimeoutMs: 300,
  maxStreamDurationMs: 1500,
  maxFrameBytes: 256 * 1024,
  maxAnswerChars: 64 * 1024,
};
const noRetry = { maxAttempts: 1 };

describe('provider faults', () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy({ limits, retry: noRetry });
    for (const fault of FAULTS) await registerFault(proxy, fault, proxy.provider.url(fault));
    await registerFault(proxy, 'refused', proxy.provider.refusedUrl);
  });
  after(() => proxy.close());

  for (const fault of FAULTS.filter((f): f is Exclude<Fault, 'flaky'> => f !== 'flaky')) {
    test(fault, async () => {
      const answer = await stream(proxy.url, fault, fault === 'stall-headers' ? '?timeout=300ms' : '');
      assert.equal(mismatch(answer, EXPECTED[fault]), null);
      assert.ok(!answer.text.includes(SECRET), 'no secret in the answer');
      await proxy.provider.waitForNoSockets();
      assert.equal(mismatch(await stream(proxy.url, 'ok'), EXPECTED.ok), null, 'the server keeps serving');
      await proxy.provider.waitForNoSockets();
    });
  }

  test('the non-streaming route: provider timeouts and faults are JSON errors with their status', async () => {
    for (const [fault, status, type] of [
      ['stall-first-byte', 408, 'timeout_exception'],
      ['stall-mid', 408, 'timeout_exception'],
      ['reset-mid', 500, 'status_exception'],
      ['status-429', 429, 'status_exception'],
      ['endless-line', 500, 'frame_exception'],
      ['huge', 500, 'status_exception'],
    ] as const) {
      const answer = await call(proxy.url, 'POST', `/_inference/completion/${fault}`, '{"input":"hi"}');
      assert.equal(answer.status, status, `${fault}: ${answer.text}`);
      assert.equal(JSON.parse(answer.text).error.type, type, fault);
      if (fault === 'huge') assert.match(answer.text, /longer than \[65536\] characters/);
    }
    await proxy.provider.waitForNoSockets();
  });

  test('connection refused: a status before the stream', async () => {
    const answer = await stream(proxy.url, 'refused');
    assert.equal(mismatch(answer, { before: 500 }), null);
    assert.match(answer.events[0]!.data, /ECONNREFUSED/);
  });

  test('a body far larger than the limits is not read to its end', async () => {
    const before = proxy.provider.bytesSent;
    await stream(proxy.url, 'endless-line');
    await proxy.provider.waitForNoSockets();
    // the limit, plus what the kernel and undici buffered before the socket was closed
    assert.ok(
      proxy.provider.bytesSent - before < limits.maxFrameBytes + 8 * 1024 * 1024,
      `${proxy.provider.bytesSent - before} bytes sent`,
    );
  });

  test('a client that hangs up mid-stream: the provider socket is closed and the server keeps serving', async () => {
    const { req } = await openStream(proxy.url, 'stall-mid', 1);
    assert.equal(proxy.provider.openSockets, 1);
    req.destroy();
    await proxy.provider.waitForNoSockets();
    assert.equal(mismatch(await stream(proxy.url, 'ok'), EXPECTED.ok), null);
  });

  test('a client that never reads: the provider is read only as far as the buffers allow, then both sockets are closed', async () => {
    const sentBefore = proxy.provider.bytesSent;
    const { req } = await openStream(proxy.url, 'huge', 1);
    // the client reads nothing more; the stream's total duration ends it, and the server lets go of a reader that stopped
    await proxy.waitForNoConnections();
    await proxy.provider.waitForNoSockets();
    req.destroy();
    assert.ok(
      proxy.provider.bytesSent - sentBefore < 64 * 1024 * 1024,
      `${proxy.provider.bytesSent - sentBefore} bytes`,
    );
    assert.equal(mismatch(await stream(proxy.url, 'ok'), EXPECTED.ok), null);
  });
});

describe('retries', () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy({
      limits,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1500 },
    });
  });
  after(() => proxy.close());

  const sent = (fault: string) => proxy.provider.received.filter((r) => r.fault === fault).length;

  test('503 twice, then an answer: the client sees only the answer', async () => {
    await registerFault(proxy, 'flaky', proxy.provider.url('flaky', { failures: 2, key: 'a' }));
    assert.equal(mismatch(await stream(proxy.url, 'flaky'), EXPECTED.ok), null);
    assert.equal(sent('flaky'), 3);
  });

  test('failing every time: the last status goes to the client after maxAttempts tries', async () => {
    await registerFault(proxy, 'flaky-forever', proxy.provider.url('flaky', { failures: 99, key: 'b' }));
    const before = sent('flaky');
    assert.equal(mismatch(await stream(proxy.url, 'flaky-forever'), { before: 400 }), null);
    assert.equal(sent('flaky') - before, 3);
  });

  test('connection reset before the answer and refused connections are retried', async () => {
    await registerFault(proxy, 'reset-before', proxy.provider.url('reset-before'));
    assert.equal(mismatch(await stream(proxy.url, 'reset-before'), EXPECTED['reset-before']), null);
    assert.equal(sent('reset-before'), 3);
  });

  test('Retry-After is honoured, and one longer than allowed is not waited for', async () => {
    await registerFault(proxy, 'status-429-retry-after', proxy.provider.url('status-429-retry-after'));
    const started = Date.now();
    assert.equal(mismatch(await stream(proxy.url, 'status-429-retry-after'), EXPECTED['status-429-retry-after']), null);
    assert.equal(sent('status-429-retry-after'), 3);
    assert.ok(Date.now() - started >= 2000, 'waited Retry-After (1 s) before each retry');
    // Retry-After: 2 is beyond maxRetryAfterMs (1.5 s): the 503 goes to the client at once
    await registerFault(proxy, 'status-503-retry-after', proxy.provider.url('status-503-retry-after'));
    assert.equal(mismatch(await stream(proxy.url, 'status-503-retry-after'), EXPECTED['status-503-retry-after']), null);
    assert.equal(sent('status-503-retry-after'), 1);
  });

  test('after the first byte went to the client: never retried', async () => {
    for (const fault of ['reset-mid', 'stall-mid', 'garbage'] as const) {
      await registerFault(proxy, fault, proxy.provider.url(fault));
      const answer = await stream(proxy.url, fault);
      assert.equal(answer.status, 200);
      assert.equal(answer.events.at(-1)?.event, 'error');
      assert.equal(sent(fault), 1, fault);
    }
    await proxy.provider.waitForNoSockets();
  });
});
