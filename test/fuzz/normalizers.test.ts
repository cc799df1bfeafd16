// Every provider's normalizer fed real-shaped frames whose JSON is mutated (a subtree replaced by
// any JSON value, a field dropped, event names swapped): deltas of the documented shape or a
// typed error, never a crash, a non-InferenceError or an empty delta.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InferenceError, type DeltaObject, type Frame } from '../../lib/index.js';
import { getProvider, providerIds } from '../../lib/stages.js';
import { DetectingDecoder } from '../../lib/framing/detect.js';
import { bodyBytes, fuzzParams, loadFixtureCases, watchUnhandledRejections } from '../helpers/fuzz.js';
import { validDelta } from '../helpers/deltas.js';

const rejections = watchUnhandledRejections();
after(() => {
  rejections.stop();
  assert.deepEqual(rejections.seen, [], 'no unhandled rejection');
});

/** The frames of each provider's successful fixture bodies, decoded once. */
const framesByProvider = new Map<string, Frame[][]>();
for (const c of await loadFixtureCases()) {
  if ((c.status ?? 200) !== 200) continue;
  const frames: Frame[] = [];
  try {
    const d = new DetectingDecoder(c.contentType);
    d.write(bodyBytes(c), (f) => frames.push({ ...f }));
    d.end((f) => frames.push({ ...f }));
  } catch {
    // a fixture that ends in a framing error still gives its frames so far
  }
  if (frames.length === 0) continue;
  const list = framesByProvider.get(c.provider) ?? [];
  list.push(frames);
  framesByProvider.set(c.provider, list);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Counts the nodes of a JSON value (pre-order), to pick one at random. */
function size(v: Json): number {
  if (Array.isArray(v)) return 1 + v.reduce<number>((n, x) => n + size(x), 0);
  if (v !== null && typeof v === 'object') return 1 + Object.values(v).reduce<number>((n, x) => n + size(x), 0);
  return 1;
}

/** Replaces node `at` (pre-order) by `by`, or removes it from its parent when `by` is undefined. */
function replace(v: Json, at: number, by: Json | undefined): Json | undefined {
  let i = at;
  const walk = (node: Json): Json | undefined => {
    if (i-- === 0) return by;
    if (Array.isArray(node)) {
      const out: Json[] = [];
      for (const x of node) {
        const y = walk(x);
        if (y !== undefined) out.push(y);
      }
      return out;
    }
    if (node !== null && typeof node === 'object') {
      const out: Record<string, Json> = {};
      for (const [k, x] of Object.entries(node)) {
        const y = walk(x);
        if (y !== undefined) out[k] = y;
      }
      return out;
    }
    return node;
  };
  return walk(v);
}

const interesting = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    null,
    '',
    0,
    -1,
    1e308,
    true,
    [],
    {},
    '[DONE]',
    '\u0000',
    '\ud800',
    'x'.repeat(5000),
    { error: { message: 'boom' } },
    { type: 'error' },
  ),
);

type FrameEdit = [
  frame: number,
  node: number,
  kind: 'replace' | 'drop' | 'event' | 'raw' | 'text' | 'exception',
  value: Json,
];

function applyEdits(frames: readonly Frame[], edits: readonly FrameEdit[]): Frame[] {
  const out = frames.map((f) => ({ ...f }));
  const events = [...new Set(frames.map((f) => f.event))];
  for (const [fi, node, kind, value] of edits) {
    const f = out[fi % out.length]!;
    if (kind === 'event') f.event = typeof value === 'string' ? value : events[node % events.length]!;
    else if (kind === 'raw') f.raw = true;
    else if (kind === 'exception') f.exception = true;
    else if (kind === 'text') f.data = typeof value === 'string' ? value : JSON.stringify(value);
    else {
      let parsed: Json;
      try {
        parsed = JSON.parse(f.data) as Json;
      } catch {
        continue;
      }
      const next = replace(parsed, node % size(parsed), kind === 'drop' ? undefined : value);
      f.data = next === undefined ? '' : JSON.stringify(next);
    }
  }
  return out;
}

describe('fuzz: provider normalizers on mutated real frames', () => {
  for (const id of providerIds()) {
    const streams = framesByProvider.get(id);
    test(id, { skip: streams ? false : 'no successful fixture' }, () => {
      const provider = getProvider(id);
      const edit = fc.tuple(
        fc.nat(),
        fc.nat(),
        fc.constantFrom<FrameEdit[2]>('replace', 'replace', 'replace', 'drop', 'event', 'raw', 'text', 'exception'),
        interesting,
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...streams!),
          fc.array(edit, { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          (frames, edits, reorder) => {
            let mutated = applyEdits(frames, edits);
            if (reorder) mutated = [...mutated.slice(1), mutated[0]!];
            const normalizer = provider.createNormalizer();
            const out: DeltaObject[] = [];
            try {
              for (const f of mutated) normalizer.frame(f, out);
              normalizer.end(out);
            } catch (err) {
              if (!(err instanceof InferenceError)) throw err;
              assert.match(err.type, /^[a-z_]+$/);
              assert.ok(err.status >= 400 && err.status <= 599, `status ${err.status}`);
            }
            for (const d of out) assert.ok(validDelta(d), JSON.stringify(d));
          },
        ),
        fuzzParams(150),
      );
    });
  }
});
