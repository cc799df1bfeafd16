// CoalescingPump: one response write per event-loop turn, the first chunk at once, the end
// with the last bytes, backpressure as with pipe, nothing written after the client left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { CoalescingPump } from '../../lib/server/coalesce.js';
import { listen } from './helpers.js';

interface Served {
  source: PassThrough;
  res: ServerResponse;
  writes: Buffer[];
  pump: CoalescingPump;
}

/** A server whose one response is fed from a PassThrough through a pump; every res.write is recorded. */
async function setUp(highWaterMark?: number, flushHeaders = true) {
  let served!: (s: Served) => void;
  const ready = new Promise<Served>((r) => (served = r));
  const server = createServer({ highWaterMark }, (_req, res) => {
    const writes: Buffer[] = [];
    const write = res.write.bind(res) as (chunk: Buffer) => boolean;
    res.write = ((chunk: Buffer) => {
      writes.push(Buffer.from(chunk));
      return write(chunk);
    }) as typeof res.write;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (flushHeaders) res.flushHeaders();
    const source = new PassThrough();
    served({ source, res, writes, pump: new CoalescingPump(source, res, { headersPending: !flushHeaders }) });
  });
  const listening = await listen(server);
  const req = request(listening.url, { method: 'POST' });
  req.end();
  const [client] = (await once(req, 'response')) as [IncomingMessage];
  return { ...(await ready), client, close: listening.close };
}

test('the first chunk is written at once; the chunks of one turn go out as one write; the end carries the last bytes', async () => {
  const s = await setUp();
  let text = '';
  s.client.setEncoding('utf8');
  s.client.on('data', (c: string) => (text += c));
  s.source.write('first\n');
  assert.equal(s.writes.length, 1, 'the first chunk is not held');
  s.source.write('a\n');
  s.source.write('b\n');
  s.source.write('c\n');
  assert.equal(s.writes.length, 1, 'later chunks wait for the end of the turn');
  await turn();
  assert.deepEqual(
    s.writes.map((b) => b.toString()),
    ['first\n', 'a\nb\nc\n'],
  );
  s.source.write('d\n');
  s.source.end('e\n');
  await once(s.client, 'end');
  assert.equal(s.writes.length, 2, 'the last bytes go with the end, not as a write of their own');
  assert.equal(text, 'first\na\nb\nc\nd\ne\n');
  await s.close();
});

test('a client that does not read stops the source (backpressure), and it flows again when the client reads', async () => {
  const s = await setUp(1024);
  s.client.pause();
  const chunk = Buffer.alloc(4096, 'x');
  let accepted = 0;
  // write until the source itself refuses: the pump must have stopped taking its output
  for (let i = 0; i < 100_000; i++) {
    accepted++;
    if (!s.source.write(chunk)) break;
    if (i % 16 === 0) await turn();
  }
  const stuck = accepted;
  // bounded: the response, the socket and the kernel buffers, not everything written
  assert.ok(s.source.isPaused(), 'the source is paused');
  let received = 0;
  s.client.on('data', (b: Buffer) => (received += b.length));
  s.client.resume();
  await once(s.source, 'drain');
  s.source.end();
  await once(s.client, 'end');
  assert.ok(received >= stuck * chunk.length, `received ${received}`);
  assert.ok(stuck < 100_000, 'the writer was stopped');
  await s.close();
});

test('bytes waiting for the end of the turn pause the source once they reach the high-water mark, not before', async () => {
  const s = await setUp(1024);
  try {
    s.source.write('first\n');
    s.source.write(Buffer.alloc(600, 'a'));
    assert.ok(!s.source.isPaused(), '600 bytes waiting: below the mark of 1,024');
    s.source.write(Buffer.alloc(600, 'b'));
    assert.ok(s.source.isPaused(), '1,200 bytes waiting: the source is paused within the turn');
    await turn();
    assert.equal(s.writes.length, 2, 'the waiting bytes went out in one write at the end of the turn');
    assert.ok(!s.source.isPaused(), 'and the source flows again');
  } finally {
    s.source.end();
    s.client.resume();
    await s.close();
  }
});

test('after the client left, nothing more is written and the source flows on to its end', async () => {
  const s = await setUp();
  s.source.write('first\n');
  s.source.write('pending\n');
  s.client.destroy();
  await once(s.res, 'close');
  const before = s.writes.length;
  for (let i = 0; i < 100; i++) s.source.write(Buffer.alloc(1024));
  s.source.end();
  await once(s.source, 'end');
  await turn();
  assert.equal(s.writes.length, before, 'no write after close');
  await s.close();
});

test('headers not sent yet go with the first chunk of the turn, or alone at its end when no chunk comes', async () => {
  // no chunk: the client still gets the headers (the answer has started)
  const quiet = await setUp(undefined, false);
  assert.equal(quiet.client.statusCode, 200);
  assert.equal(quiet.client.headers['content-type'], 'text/event-stream');
  assert.equal(quiet.writes.length, 0);
  quiet.source.end('late\n');
  quiet.client.setEncoding('utf8');
  let text = '';
  quiet.client.on('data', (c: string) => (text += c));
  await once(quiet.client, 'end');
  assert.equal(text, 'late\n');
  await quiet.close();
});

test('the first chunk in the turn the response started carries the headers: one socket write for both', async () => {
  let socketWrites = 0;
  const server = createServer((_req, res) => {
    const socket = res.socket!;
    const count = (name: '_write' | '_writev') => {
      const original = (socket as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
      (socket as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
        socketWrites++;
        return original.apply(socket, a);
      };
    };
    count('_write');
    count('_writev');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const source = new PassThrough();
    new CoalescingPump(source, res, { headersPending: true });
    source.write('first\n');
    setTimeout(() => source.end('second\n'), 20);
  });
  const listening = await listen(server);
  const req = request(listening.url, { method: 'POST' });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  await once(res, 'end');
  assert.equal(text, 'first\nsecond\n');
  // headers + first chunk, then the second chunk with the end
  assert.equal(socketWrites, 2);
  await listening.close();
});
