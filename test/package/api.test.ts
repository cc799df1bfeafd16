// The public surface: a small root, the stages under `inference-stream/stages`, and JSDoc on
// every exported value of both (read with the TypeScript compiler from the sources).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as root from '../../lib/index.js';
import * as stages from '../../lib/stages.js';

const entry = (name: string) => fileURLToPath(new URL(`../../lib/${name}.ts`, import.meta.url));

/** Exported runtime names of a module whose documentation comment is missing. */
function undocumented(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(symbol.flags & ts.SymbolFlags.Value)) continue; // types are documented where useful, values always
    const documented =
      symbol.getDocumentationComment(checker).length > 0 ||
      (symbol.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
    if (!documented) missing.push(exported.name);
  }
  return missing;
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
      'sseParser',
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
    assert.deepEqual(undocumented(entry('index')), []);
    assert.deepEqual(undocumented(entry('stages')), []);
  });
});
