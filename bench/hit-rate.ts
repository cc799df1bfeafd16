/**
 * How often the envelope cache reads an event without JSON.parse, on each provider's
 * recorded streams (test/fixtures) and on the generated benchmark streams:
 *   node --import tsx bench/hit-rate.ts
 * Every body is fed one event per read (cut after each blank line or newline), the generated
 * ones also in 16 KiB reads. An event
 * counts as a hit when it was read from the bytes (fast path) or from the cached envelope
 * (frame path); every other event was framed and fully parsed.
 */
import { readdirSync } from 'node:fs';
import { BodyDecoder } from '../lib/pipeline/body-decoder.js';
import { getProvider, isProviderId } from '../lib/providers/index.js';
import type { DeltaObject, ResponseReader } from '../lib/providers/types.js';
import type { FixtureCase } from '../test/fixtures/types.js';
import { table } from './lib/table.js';
import { SCENARIOS, prepare } from './lib/scenarios.js';

interface Count {
  events: number;
  hits: number;
  textEvents: number;
}

/** Runs one body and counts events and cache hits. */
function count(reader: ResponseReader, reads: readonly Buffer[], contentType: string | undefined, c: Count): void {
  let framed = 0;
  let frameHits = 0;
  let byteHits = 0;
  const counting: ResponseReader = {
    id: reader.id,
    errorMessage: (b) => reader.errorMessage(b),
    createNormalizer() {
      const n = reader.createNormalizer();
      const frame = n.frame.bind(n);
      n.frame = (f, out) => {
        framed++;
        frame(f, out);
      };
      const cache = n.envelopeCache;
      if (cache) {
        const take = cache.take.bind(cache);
        cache.take = (f, out) => {
          const hit = take(f, out);
          if (hit) frameHits++;
          return hit;
        };
        const bytes = cache.bytes.bind(cache);
        cache.bytes = (syntax) => {
          const shape = bytes(syntax);
          if (shape !== null && !(shape as { counted?: true }).counted) {
            const match = shape.match.bind(shape);
            shape.match = (buf, p, limit, out) => {
              const end = match(buf, p, limit, out);
              if (end >= 0) byteHits++;
              return end;
            };
            (shape as { counted?: true }).counted = true;
          }
          return shape;
        };
      }
      return n;
    },
  };
  const d = new BodyDecoder(counting, { contentType });
  const out: DeltaObject[] = [];
  try {
    for (const r of reads) d.write(r, out);
    d.end(out);
  } catch {
    // error cases still count the events read before the error
  }
  c.events += framed + byteHits;
  c.hits += frameHits + byteHits;
  c.textEvents += out.filter((x) => 'delta' in x).length;
}

/** One read per event: cut after every blank line (SSE) or newline (NDJSON); other framings whole. */
function perEvent(body: Buffer): Buffer[] {
  const reads: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 0x0a && (body[i + 1] !== 0x0a || i + 1 >= body.length)) {
      reads.push(body.subarray(from, i + 1));
      from = i + 1;
    }
  }
  if (from < body.length) reads.push(body.subarray(from));
  return reads;
}

const dir = new URL('../test/fixtures/', import.meta.url);
const rows: string[][] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'types.ts')
  .sort()) {
  const { cases } = (await import(new URL(file, dir).href)) as { cases: FixtureCase[] };
  const c: Count = { events: 0, hits: 0, textEvents: 0 };
  let bodies = 0;
  let provider = '';
  for (const k of cases) {
    if ((k.status ?? 200) !== 200 || !isProviderId(k.provider)) continue;
    provider = k.provider;
    bodies++;
    const body = typeof k.body === 'string' ? Buffer.from(k.body) : k.body;
    count(getProvider(k.provider), perEvent(body), k.contentType, c);
  }
  if (bodies === 0) continue;
  rows.push([
    provider,
    String(bodies),
    String(c.events),
    String(c.hits),
    c.events ? ((c.hits / c.events) * 100).toFixed(0) + '%' : '–',
  ]);
}
console.log('Recorded streams (test/fixtures, 200 responses), one read per event:\n');
console.log(table(['provider', 'bodies', 'events', 'read without JSON.parse', 'hit rate'], rows));

const gen: string[][] = [];
for (const s of SCENARIOS) {
  const row: string[] = [];
  for (const chunking of ['event', '16k'] as const) {
    const p = prepare(s, chunking, true);
    const c: Count = { events: 0, hits: 0, textEvents: 0 };
    if (!isProviderId(p.provider)) continue;
    for (const body of p.bodies) count(getProvider(p.provider), body, p.contentType, c);
    if (chunking === 'event') row.push(p.name, String(c.events), String(c.hits));
    row.push(((c.hits / c.events) * 100).toFixed(1) + '%');
  }
  if (row.length > 0) gen.push(row);
}
console.log('\nGenerated benchmark streams:\n');
console.log(
  table(
    ['stream', 'events', 'read without JSON.parse (one event per read)', 'hit rate', 'hit rate, 16 KiB reads'],
    gen,
  ),
);
