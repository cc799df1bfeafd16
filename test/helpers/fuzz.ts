// Shared fuzzing inputs: fixture bodies, random bytes and real-shaped bodies mutated.
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import type { FixtureCase } from '../fixtures/types.js';

/** How many cases each property runs: small in `npm test`, large under `npm run fuzz`. */
export function fuzzRuns(inTest: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(n) && n > 0 ? n : inTest;
}

/**
 * fast-check parameters for one property: a run count, and under `npm run fuzz` a time
 * budget per property (FUZZ_SECONDS) so that a long run stays bounded.
 */
export function fuzzParams(inTest: number): {
  numRuns: number;
  timeout: number;
  interruptAfterTimeLimit?: number;
  markInterruptAsFailure: false;
} {
  const seconds = Number(process.env.FUZZ_SECONDS);
  const limit = Number.isFinite(seconds) && seconds > 0 ? { interruptAfterTimeLimit: seconds * 1000 } : {};
  // `timeout`: an async case that has not settled in 5 s is a hang, reported as a failure
  return { numRuns: fuzzRuns(inTest), timeout: 5000, ...limit, markInterruptAsFailure: false };
}

const dir = new URL('../fixtures/', import.meta.url);

/** Every fixture case of every provider (test/fixtures/<name>.ts). */
export async function loadFixtureCases(): Promise<FixtureCase[]> {
  const all: FixtureCase[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'types.ts')
    .sort()) {
    const { cases } = (await import(new URL(file, dir).href)) as { cases: FixtureCase[] };
    all.push(...cases);
  }
  return all;
}

export function bodyBytes(c: FixtureCase): Buffer {
  return typeof c.body === 'string' ? Buffer.from(c.body) : c.body;
}

type Edit = [at: number, byte: number, kind: 'flip' | 'insert' | 'cut' | 'dup' | 'drop' | 'invalid-utf8' | 'nul'];

/** Applies byte-level edits: flip, insert, truncate, duplicate or drop a run, an invalid UTF-8 sequence, a NUL. */
export function mutate(body: Buffer, edits: readonly Edit[]): Buffer {
  let b = Buffer.from(body);
  for (const [at, byte, kind] of edits) {
    const i = b.length === 0 ? 0 : at % b.length;
    const run = 1 + (byte % 32);
    switch (kind) {
      case 'flip':
        if (b.length > 0) b[i] = byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
        break;
      case 'cut':
        b = b.subarray(0, i);
        break;
      case 'dup':
        b = Buffer.concat([b.subarray(0, i + run), b.subarray(i)]);
        break;
      case 'drop':
        b = Buffer.concat([b.subarray(0, i), b.subarray(i + run)]);
        break;
      case 'invalid-utf8':
        b = Buffer.concat([b.subarray(0, i), Buffer.from([0xc3 + (byte % 2) * 0x1d, 0x28, 0xff, 0xfe]), b.subarray(i)]);
        break;
      case 'nul':
        b = Buffer.concat([b.subarray(0, i), Buffer.from([0]), b.subarray(i)]);
        break;
    }
  }
  return b;
}

const edit: fc.Arbitrary<Edit> = fc.tuple(
  fc.nat(),
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom('flip', 'insert', 'cut', 'dup', 'drop', 'invalid-utf8', 'nul'),
);

/** Random bytes, a fixture body mutated, or two fixture bodies spliced together. */
export function fuzzBody(bodies: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const body = fc.constantFrom(...bodies);
  return fc.oneof(
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)) },
    { weight: 5, arbitrary: fc.tuple(body, fc.array(edit, { maxLength: 6 })).map(([b, edits]) => mutate(b, edits)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(body, body, fc.nat(), fc.nat())
        .map(([a, b, i, j]) => Buffer.concat([a.subarray(0, i % (a.length + 1)), b.subarray(j % (b.length + 1))])),
    },
  );
}

/** Read boundaries: offsets into a body of unknown length (taken modulo length + 1). */
export const cuts = fc.array(fc.nat(), { maxLength: 10 });

/** Watches for unhandled rejections while a test file runs. */
export function watchUnhandledRejections(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onRejection);
  return { seen, stop: () => process.off('unhandledRejection', onRejection) };
}
