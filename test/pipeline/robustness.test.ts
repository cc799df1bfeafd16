// Any bytes, for any provider: no crash, no hang, and every failure is a typed error.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { providerIds } from '../../lib/index.js';
import type { FixtureCase } from '../fixtures/types.js';
import { cutAt, parseEsEvents, runCompletion, runDeltas } from '../helpers/streams.js';

const dir = new URL('../fixtures/', import.meta.url);
const bodies: Buffer[] = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'types.ts')) {
  const { cases } = (await import(new URL(file, dir).href)) as { cases: FixtureCase[] };
  for (const c of cases) bodies.push(typeof c.body === 'string' ? Buffer.from(c.body) : c.body);
}
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

/** Random bytes, or a real-shaped body with bytes flipped, inserted or cut away. */
const input = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.tuple(fc.constantFrom(...bodies), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'cut')), { maxLength: 5 })).map(([body, edits]) => {
    let b = Buffer.from(body);
    for (const [at, byte, kind] of edits) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (kind === 'flip' && b.length > 0) b[i] = byte;
      else if (kind === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
      else b = b.subarray(0, i);
    }
    return b;
  }),
);

function validDelta(d: object): boolean {
  const keys = Object.keys(d);
  if (keys.length !== 1) return false;
  const [k] = keys;
  const v = (d as Record<string, unknown>)[k!];
  if (k === 'delta' || k === 'reasoning' || k === 'finish_reason') return typeof v === 'string' && v.length > 0;
  return k === 'usage' && typeof v === 'object' && v !== null;
}

describe('robustness: random and mutated input', () => {
  for (const provider of providerIds()) {
    test(provider, async () => {
      await fc.assert(
        fc.asyncProperty(input, fc.array(fc.nat(), { maxLength: 8 }), fc.constantFrom(200, 200, 400, 500), async (body, offsets, status) => {
          const chunks = cutAt(body, offsets.map((o) => o % (body.length + 1)));
          const got = await runDeltas(provider, chunks, { status }); // throws if an error is not typed
          for (const d of got.deltas) assert.ok(validDelta(d), JSON.stringify(d));
          if (got.error) {
            assert.ok(/^[a-z_]+$/.test(got.error.type), got.error.type);
            assert.ok(got.error.status >= 400 && got.error.status <= 599, String(got.error.status));
          }
          if (status !== 200) assert.ok(got.error && got.deltas.length === 0, 'a non-2xx body is one error');
          const events = parseEsEvents(await runCompletion(provider, chunks, { status }));
          const last = events.at(-1)!;
          assert.ok(last.data === '[DONE]' || last.event === 'error');
          assert.equal(events.filter((e) => e.event === 'error' || e.data === '[DONE]').length, 1);
        }),
        { numRuns: RUNS },
      );
    });
  }
});
