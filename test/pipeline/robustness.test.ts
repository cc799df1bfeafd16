// Any bytes, for any provider: no crash, no hang, and every failure is a typed error.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { providerIds } from '../../lib/stages.js';
import { bodyBytes, fuzzBody, fuzzParams, fuzzRuns, loadFixtureCases } from '../helpers/fuzz.js';
import { cutAt, parseEsEvents, runCompletion, runDeltas } from '../helpers/streams.js';
import { validDelta } from '../helpers/deltas.js';

const bodies = (await loadFixtureCases()).map(bodyBytes);
const RUNS = fuzzRuns(40); // FUZZ_RUNS (npm run fuzz) raises it

/** Random bytes, a real-shaped body with bytes flipped, inserted, cut, duplicated or made invalid UTF-8, or two bodies spliced. */
const input = fuzzBody(bodies);

describe('robustness: random and mutated input', () => {
  for (const provider of providerIds()) {
    test(provider, async () => {
      await fc.assert(
        fc.asyncProperty(
          input,
          fc.array(fc.nat(), { maxLength: 8 }),
          fc.constantFrom(200, 200, 400, 500),
          async (body, offsets, status) => {
            const chunks = cutAt(
              body,
              offsets.map((o) => o % (body.length + 1)),
            );
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
          },
        ),
        fuzzParams(RUNS),
      );
    });
  }
});
