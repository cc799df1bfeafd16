// Replays every fixture case (test/fixtures/<provider>.ts) through deltaStream whole, in
// 1-byte reads and under random cuts, through completionStream and through the CLI.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { main } from '../../lib/cli/main.js';
import type { FixtureCase } from '../fixtures/types.js';
import {
  answer,
  cutAt,
  cutEvery,
  parseEsEvents,
  runCompletion,
  runDeltas,
  type DeltaOutcome,
} from '../helpers/streams.js';

const dir = new URL('../fixtures/', import.meta.url);
const modules = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'types.ts')
  .sort();
const all: FixtureCase[] = [];
for (const file of modules) {
  const mod = (await import(new URL(file, dir).href)) as { cases: FixtureCase[] };
  all.push(...mod.cases);
}
const RUNS = Number(process.env.FIXTURE_CUT_RUNS ?? 20);

function bytes(c: FixtureCase): Buffer {
  return typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : c.body;
}

/**
 * The chat kinds (message start, tool calls, refusals) are checked by the chat_completion
 * tests; a case that lists none of them is compared on the other kinds alone.
 */
function isChatKind(d: object): boolean {
  return 'role' in d || 'tool_call' in d || 'refusal' in d;
}
function comparable(c: FixtureCase, deltas: readonly object[]): object[] {
  return c.deltas.some(isChatKind) ? [...deltas] : deltas.filter((d) => !isChatKind(d));
}

function check(c: FixtureCase, got: DeltaOutcome, how: string): void {
  assert.deepEqual(comparable(c, got.deltas), c.deltas, `${c.provider} / ${c.name} (${how}): deltas`);
  if (c.error === null) {
    assert.equal(
      got.error,
      null,
      `${c.provider} / ${c.name} (${how}): expected a clean end, got ${JSON.stringify(got.error)}`,
    );
  } else {
    assert.ok(got.error, `${c.provider} / ${c.name} (${how}): expected error ${c.error.type}`);
    assert.equal(got.error.type, c.error.type, `${c.provider} / ${c.name} (${how}): error type (${got.error.reason})`);
    assert.equal(got.error.status, c.error.status, `${c.provider} / ${c.name} (${how}): error status`);
    if (c.error.reasonIncludes)
      assert.ok(got.error.reason.includes(c.error.reasonIncludes), `${c.name}: reason [${got.error.reason}]`);
  }
}

const options = (c: FixtureCase) => ({ contentType: c.contentType, status: c.status });

describe('fixtures', () => {
  assert.ok(all.length > 0);
  for (const c of all) {
    describe(`${c.provider}: ${c.name}`, () => {
      test('whole body in one read', async () => {
        check(c, await runDeltas(c.provider, [bytes(c)], options(c)), 'one read');
      });

      test('1-byte reads', async () => {
        check(c, await runDeltas(c.provider, cutEvery(bytes(c), 1), options(c)), '1-byte reads');
      });

      test('without Content-Type (framing from the first bytes)', async () => {
        check(c, await runDeltas(c.provider, cutEvery(bytes(c), 5), { status: c.status }), 'sniffed');
      });

      test('random cuts', async () => {
        const body = bytes(c);
        await fc.assert(
          fc.asyncProperty(fc.array(fc.nat({ max: Math.max(body.length, 1) }), { maxLength: 40 }), async (offsets) => {
            check(c, await runDeltas(c.provider, cutAt(body, offsets), options(c)), `cuts ${offsets.join(',')}`);
          }),
          { numRuns: RUNS },
        );
      });

      test('completionStream: answer text, then [DONE] or the error event', async () => {
        const events = parseEsEvents(await runCompletion(c.provider, cutEvery(bytes(c), 3), options(c)));
        const last = events.pop();
        assert.ok(last);
        let text = '';
        for (const e of events) {
          assert.equal(e.event, 'message');
          const parsed = JSON.parse(e.data) as { completion: { delta: string }[] };
          assert.ok(parsed.completion.length > 0);
          for (const d of parsed.completion) {
            assert.deepEqual(Object.keys(d), ['delta']);
            assert.ok(d.delta.length > 0);
            text += d.delta;
          }
        }
        assert.equal(text, answer(c.deltas));
        if (c.error === null) {
          assert.deepEqual(last, { event: 'message', data: '[DONE]' });
        } else {
          assert.equal(last.event, 'error');
          const body = JSON.parse(last.data);
          assert.equal(body.status, c.error.status);
          assert.equal(body.error.type, c.error.type);
          assert.deepEqual(body.error.root_cause, [{ type: body.error.type, reason: body.error.reason }]);
        }
      });

      test('CLI deltas', async () => {
        const args = ['deltas', '--provider', c.provider];
        if (c.contentType) args.push('--content-type', c.contentType);
        if (c.status) args.push('--status', String(c.status));
        const { code, stdout } = await runCli(args, cutEvery(bytes(c), 11));
        const lines = stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
        if (c.error === null) {
          assert.equal(code, 0);
          assert.deepEqual(comparable(c, lines), c.deltas);
        } else {
          assert.equal(code, 1);
          const last = lines.pop();
          assert.deepEqual(comparable(c, lines), c.deltas);
          assert.equal(last.error.type, c.error.type);
          assert.equal(last.error.status, c.error.status);
        }
      });
    });
  }
});

async function runCli(args: string[], chunks: Buffer[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += b));
  stderr.on('data', (b) => (err += b));
  const code = await main(args, { stdin: Readable.from(chunks), stdout, stderr });
  return { code, stdout: out, stderr: err };
}
