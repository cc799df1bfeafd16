// The folders of lib/ depend one way, bottom to top; no module imports from a folder above
// its own, so there is no import cycle between folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));
/** Bottom first. Files at the root of lib/ other than these (index.ts, stages.ts) are entry points above everything. */
const ORDER = [
  'errors.ts',
  'json.ts',
  'streams',
  'framing',
  'registry',
  'providers',
  'output',
  'pipeline',
  'server',
  'cli',
];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The layer of a file: its top folder under lib/, or its own name at the root. */
function layer(file: string): number {
  const top = relative(LIB, file).split(sep)[0]!;
  const at = ORDER.indexOf(top);
  return at === -1 ? ORDER.length : at;
}

test('no module of lib/ imports from a folder above its own', () => {
  const upward: string[] = [];
  let imports = 0;
  for (const file of files(LIB)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      imports++;
      const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
      if (layer(target) > layer(file)) upward.push(`${relative(LIB, file)} -> ${m[1]}`);
    }
  }
  assert.ok(imports > 100, `read ${imports} imports`);
  assert.deepEqual(upward, []);
});

test('every folder of lib/ has its place in the order', () => {
  const folders = readdirSync(LIB, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  assert.deepEqual(
    folders.filter((f) => !ORDER.includes(f)),
    [],
  );
});
