import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { StreamTracker, closeGracefully } from '../../lib/server/shutdown.js';
import type { InferenceError } from '../../lib/errors.js';

describe('stream tracker', () => {
  test('streams that finish within the grace period are left alone', async () => {
    const tracker = new StreamTracker();
    const ended: InferenceError[] = [];
    const done = tracker.track({ end: (e) => ended.push(e) });
    const drained = tracker.drain(5000);
    assert.ok(tracker.isClosing);
    done();
    done(); // idempotent
    assert.deepEqual(await drained, { finished: 1, ended: 0 });
    assert.equal(ended.length, 0);
  });

  test('the rest are ended with an error event once the grace period is over', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const tracker = new StreamTracker();
    const ended: InferenceError[] = [];
    let untrack = () => {};
    untrack = tracker.track({ end: (e) => (ended.push(e), untrack()) });
    const drained = tracker.drain(1000);
    await Promise.resolve();
    t.mock.timers.tick(1000);
    assert.deepEqual(await drained, { finished: 0, ended: 1 });
    assert.equal(ended[0]!.type, 'node_closed_exception');
    assert.equal(ended[0]!.status, 503);
  });
});

describe('closeGracefully', () => {
  test('stops accepting, lets an open stream end with an error event after the grace period, closes', async () => {
    const tracker = new StreamTracker();
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"completion":[{"delta":"a"}]}\n\n');
      const untrack = tracker.track({
        end: (err) => {
          res.end(
            `event: error\ndata: ${JSON.stringify({ error: { type: err.type, reason: err.reason }, status: err.status })}\n\n`,
          );
        },
      });
      res.once('close', untrack);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' });
    req.end();
    const [res] = await once(req, 'response');
    let text = '';
    res.on('data', (c: Buffer) => (text += c));
    await once(res, 'data');
    const closing = closeGracefully(server, tracker, 200);
    await once(res, 'end');
    assert.deepEqual(await closing, { finished: 0, ended: 1 });
    assert.match(text, /event: error\ndata: .*node_closed_exception/);
    assert.equal(server.listening, false);
  });
});
