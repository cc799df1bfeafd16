// A few hundred mixed faults, hang-ups and stalled readers: afterwards every provider socket
// and client connection is closed, the handle count is back where it started, memory is flat.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FAULTS } from '../helpers/bad-provider.js';
import { activeHandles, registerFault, SECRET, startProxy, type Proxy } from '../server/harness.js';
import { runWorkload } from '../server/workload.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const COUNT = Number(process.env.LEAK_REQUESTS ?? 200);

describe('no leaks under faults', () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy({
      limits: { firstByteTimeoutMs: 300, idleTimeoutMs: 300, maxStreamDurationMs: 500, maxFrameBytes: 256 * 1024 },
      retry: { maxAttempts: 1 },
    });
    for (const fault of FAULTS) await registerFault(proxy, fault, proxy.provider.url(fault));
  });
  after(() => proxy.close());

  async function round(seed: number, count = COUNT) {
    const tally = await runWorkload(
      { url: proxy.url, keys: null },
      { count, concurrency: 24, seed, slow: true, secret: SECRET, stalledReaderMs: 1000 },
    );
    await proxy.provider.waitForNoSockets(10_000);
    await proxy.waitForNoConnections(10_000);
    return tally;
  }

  test(`${COUNT} × 2 mixed requests`, async (t) => {
    await round(1, 48); // warm-up: lazy modules, undici pools, JIT
    const handles = activeHandles();
    const heapBefore = heap();
    const first = await round(2);
    const second = await round(3);
    const heapAfter = heap();
    for (const t of [first, second]) {
      assert.deepEqual(t.problems, [], t.problems.slice(0, 5).join('\n'));
      assert.deepEqual(t.leaks, [], 'no secret in any answer');
    }
    assert.ok(Object.keys(first.byKind).length >= 10, JSON.stringify(first.byKind));
    assert.equal(proxy.provider.openSockets, 0);
    assert.equal(proxy.openConnections, 0);
    assert.ok(activeHandles() <= handles, `handles: ${handles} before, ${activeHandles()} after`);
    const growth = (heapAfter - heapBefore) / 1024 / 1024;
    t.diagnostic(
      `${first.requests + second.requests} requests (${JSON.stringify(second.byKind)}); handles ${handles} → ${activeHandles()}; heap ${(heapBefore / 1048576).toFixed(1)} → ${(heapAfter / 1048576).toFixed(1)} MiB; ${((first.bytes + second.bytes) / 1048576).toFixed(0)} MiB received`,
    );
    assert.ok(growth < 8, `heap grew by ${growth.toFixed(1)} MiB over ${2 * COUNT} requests`);
  });
});
