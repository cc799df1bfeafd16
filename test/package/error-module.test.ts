// One error module: errors are built only by the constructors of lib/errors.ts, and every
// error type string lives in ErrorType.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorType } from '../../lib/index.js';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('outside lib/errors.ts no module constructs an InferenceError or writes an error type string', () => {
  const found: string[] = [];
  const types = new Set<string>(Object.values(ErrorType));
  for (const file of files(LIB)) {
    const name = relative(LIB, file);
    if (name === 'errors.ts') continue;
    const text = readFileSync(file, 'utf8');
    if (/new (?:InferenceError|SecurityError)\(/.test(text)) found.push(`${name}: new InferenceError`);
    for (const m of text.matchAll(/['"]([a-z_]+_exception|incomplete_stream)['"]/g))
      found.push(`${name}: '${m[1]}'${types.has(m[1]!) ? '' : ' (not in ErrorType)'}`);
  }
  assert.deepEqual(found, []);
});
