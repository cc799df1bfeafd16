// Every fixture case (test/fixtures/<provider>.ts) served by a simulated provider over real
// HTTP, in awkward cuts, registered through PUT and streamed through the handler.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { FixtureCase } from '../fixtures/types.js';
import { answer, cutAt, cutEvery } from '../helpers/streams.js';
import {
  fakeProvider,
  handlerServer,
  http,
  readStream,
  settingsFor,
  writeChunks,
  TEST_SECRETS,
  type FakeProvider,
} from '../server/helpers.js';

const dir = new URL('../fixtures/', import.meta.url);
const cases: FixtureCase[] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'types.ts')
  .sort()) {
  const all = ((await import(new URL(file, dir).href)) as { cases: FixtureCase[] }).cases;
  // Bodies the client never asks for (DashScope cumulative output) are read only by the library tests.
  cases.push(...all.filter((c) => c.notRequestedByClient !== true));
}

/** Deterministic awkward cuts: 1..13-byte pieces from a fixed seed. */
function awkward(body: Buffer, seed: number): Buffer[] {
  const offsets: number[] = [];
  let x = seed;
  for (let at = 0; at < body.length;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    at += 1 + (x % 13);
    offsets.push(at);
  }
  return cutAt(body, offsets);
}

describe('simulated providers, every wire format, through the handler', () => {
  let provider: FakeProvider;
  let server: Awaited<ReturnType<typeof handlerServer>>;
  // The provider picks the case from the path: /case/<index>/<cut>
  before(async () => {
    provider = await fakeProvider(async (req, res) => {
      const [, , index, cut] = req.url.split('/');
      const c = cases[Number(index)]!;
      const body = typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : c.body;
      const headers: Record<string, string> = {};
      if (c.contentType) headers['content-type'] = c.contentType;
      res.writeHead(c.status ?? 200, headers);
      await writeChunks(res, cut === 'bytes' ? cutEvery(body, 1) : awkward(body, Number(index) + 1));
    });
    server = await handlerServer();
  });
  after(async () => {
    await server.close();
    await provider.close();
  });

  cases.forEach((c, index) => {
    test(`${c.provider}: ${c.name}`, async () => {
      const id = `case-${index}`;
      const settings = settingsFor(c.provider, `${provider.url}/case/${index}/awkward`);
      const put = await http(server.url, 'PUT', `/_inference/completion/${id}`, {
        service: c.provider,
        service_settings: settings,
      });
      assert.equal(put.status, 200, put.body);
      for (const secret of TEST_SECRETS) assert.ok(!put.body.includes(secret), 'PUT echoes no secret');

      const res = await http(server.url, 'POST', `/_inference/completion/${id}/_stream`, { input: 'hi' });
      const got = readStream(res.body);
      assert.equal(res.headers['content-type'], 'text/event-stream');
      assert.equal(got.text, answer(c.deltas));
      if (c.error === null) {
        assert.equal(res.status, 200);
        assert.equal(got.error, null, res.body);
        assert.ok(got.done);
      } else {
        assert.ok(got.error, `expected ${c.error.type}, got ${res.body}`);
        assert.equal(got.error.type, c.error.type);
        assert.equal(got.error.status, c.error.status);
        assert.equal(got.done, false);
        // Before the stream (provider status not 2xx): the error's status; after: 200 already sent.
        assert.equal(res.status, c.status !== undefined && (c.status < 200 || c.status > 299) ? c.error.status : 200);
        if (c.error.reasonIncludes) assert.ok(got.error.reason.includes(c.error.reasonIncludes), got.error.reason);
      }
      for (const secret of TEST_SECRETS) assert.ok(!res.body.includes(secret), 'no secret in the stream');

      const plain = await http(server.url, 'POST', `/_inference/completion/${id}`, { input: 'hi' });
      if (c.error === null) {
        assert.equal(plain.status, 200, plain.body);
        assert.deepEqual(JSON.parse(plain.body), { completion: [{ result: answer(c.deltas) }] });
      } else {
        assert.equal(plain.status, c.error.status, plain.body);
        assert.equal(JSON.parse(plain.body).error.type, c.error.type);
      }
    });
  });
});
