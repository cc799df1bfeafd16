// The public surface: a small root, the stages under `inference-stream/stages`, and JSDoc on
// every exported value of both (its declaration in lib/ is preceded by a doc comment).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as root from '../../lib/index.js';
import * as stages from '../../lib/stages.js';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));
const DECLARATION =
  /^export (?:declare )?(?:default )?(?:abstract )?(?:async )?(?:function\*?|class|const|let) ([A-Za-z0-9_$]+)/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every exported function, class and const of lib/, and whether a doc comment precedes each declaration of it. */
function documentation(): Map<string, boolean> {
  const documented = new Map<string, boolean>();
  for (const file of files(LIB)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const name = DECLARATION.exec(line)?.[1];
      if (name === undefined) return;
      let j = i - 1;
      while (j >= 0 && lines[j]!.trim() === '') j--;
      const hasDoc = j >= 0 && lines[j]!.trim().endsWith('*/');
      documented.set(name, (documented.get(name) ?? true) && hasDoc);
    });
  }
  return documented;
}

/** The runtime exports of a module namespace whose declaration has no doc comment (or was not found). */
function undocumented(namespace: object, docs: Map<string, boolean>): string[] {
  return Object.keys(namespace).filter((name) => docs.get(name) !== true);
}

describe('public API', () => {
  test('the root: at most 20 runtime names, the composed streams, handler, server, registries and the error', () => {
    const names = Object.keys(root);
    assert.ok(names.length <= 20, `${names.length} names: ${names.join(', ')}`);
    for (const name of [
      'completionStream',
      'chatCompletionStream',
      'deltaStream',
      'createInferenceHandler',
      'startInferenceServer',
      'MemoryRegistry',
      'FileRegistry',
      'InferenceError',
      'ErrorType',
    ]) {
      assert.ok(names.includes(name), name);
    }
    for (const stage of [
      'jsonArrayParser',
      'normalize',
      'batch',
      'serialize',
      'getProvider',
      'providerIds',
      'ProviderClient',
      'sharedAgent',
      'startDemoProvider',
      'restStatusFor',
    ]) {
      assert.ok(!names.includes(stage), `${stage} is not at the root`);
      assert.ok(stage in stages, `${stage} is in inference-stream/stages`);
    }
  });

  test('every exported value of the root and of the stages has JSDoc', () => {
    const docs = documentation();
    assert.ok(docs.size > 100, `${docs.size} declarations read`);
    assert.deepEqual(undocumented(root, docs), []);
    assert.deepEqual(undocumented(stages, docs), []);
  });
});
