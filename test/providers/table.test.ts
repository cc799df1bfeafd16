// The one provider table: every id is a module owning both directions, and an unknown id
// fails the same way, at construction, everywhere.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { completionStream, deltaStream, InferenceError, type ProviderId } from '../../lib/index.js';
import {
  BodyDecoder,
  CompletionStream,
  DeltaStream,
  NormalizeStream,
  getProvider,
  isProviderId,
  listProviders,
  normalize,
  providerIds,
  sharedAgent,
  type RequestContext,
} from '../../lib/stages.js';
import { settingsFor } from '../server/helpers.js';

const ELASTICSEARCH_SERVICES = [
  'openai',
  'azureopenai',
  'azureaistudio',
  'anthropic',
  'cohere',
  'googleaistudio',
  'googlevertexai',
  'watsonxai',
  'hugging_face',
  'amazonbedrock',
  'mistral',
  'deepseek',
  'alibabacloud',
  'ollama',
];

describe('provider table', () => {
  test('exactly the 14 Elasticsearch service ids, each in the module of its name', async () => {
    assert.deepEqual([...providerIds()].sort(), [...ELASTICSEARCH_SERVICES].sort());
    for (const id of providerIds()) {
      const file = new URL(`../../lib/providers/${id}.ts`, import.meta.url);
      assert.ok(existsSync(file), `lib/providers/${id}.ts`);
      const module = (await import(file.href)) as Record<string, unknown>;
      assert.equal(module[id], getProvider(id), `lib/providers/${id}.ts exports the table's ${id}`);
    }
  });

  test('each provider owns both directions: the request it sends and the reader of its answer', async () => {
    const context: RequestContext = {
      dispatcher: sharedAgent(),
      cache: new Map(),
      googleAccessToken: async () => 'token',
      ibmIamToken: async () => 'token',
    };
    for (const provider of listProviders()) {
      assert.equal(typeof provider.description, 'string');
      assert.ok(Array.isArray(provider.required) && provider.required.every((k) => typeof k === 'string'), provider.id);
      const endpoint = {
        inference_id: 'x',
        task_type: 'completion',
        service: provider.id,
        service_settings: settingsFor(provider.id, 'http://127.0.0.1:9'),
        task_settings: {},
      };
      const req = await provider.request({ endpoint, input: 'Hello', taskSettings: {} }, context);
      assert.ok(new URL(req.url), `${provider.id}: a URL`);
      assert.ok(Object.keys(req.headers).length > 0, `${provider.id}: headers`);
      assert.ok(JSON.stringify(JSON.parse(req.body)).includes('Hello'), `${provider.id}: the input is in the body`);
      const normalizer = provider.createNormalizer();
      assert.equal(typeof normalizer.frame, 'function', provider.id);
      assert.equal(typeof normalizer.end, 'function', provider.id);
      assert.equal(provider.errorMessage({ error: { message: 'boom' } }), 'boom', `${provider.id}: error body reader`);
    }
  });

  test('isProviderId tells ids from anything else', () => {
    assert.ok(isProviderId('hugging_face'));
    for (const v of ['huggingFace', 'watsonx', 'OPENAI', '', 'toString', '__proto__', null, 1])
      assert.equal(isProviderId(v), false, String(v));
  });
});

describe('an unknown provider id', () => {
  const constructors: [string, (id: ProviderId) => unknown][] = [
    ['completionStream', (id) => completionStream(id)],
    ['deltaStream', (id) => deltaStream(id)],
    ['new CompletionStream', (id) => new CompletionStream(id)],
    ['new DeltaStream', (id) => new DeltaStream(id)],
    ['normalize', (id) => normalize(id)],
    ['new NormalizeStream', (id) => new NormalizeStream(id)],
    ['new BodyDecoder', (id) => new BodyDecoder(id)],
    ['getProvider', (id) => getProvider(id)],
  ];
  for (const [name, make] of constructors) {
    for (const bad of ['opnai', 'huggingFace', 'toString', '']) {
      test(`${name}('${bad}') throws at once, naming the known ids`, () => {
        assert.throws(
          () => make(bad as ProviderId),
          (err: unknown) =>
            err instanceof InferenceError &&
            err.type === 'illegal_argument_exception' &&
            err.status === 400 &&
            err.reason === `Unknown provider [${bad}]; known providers: [${providerIds().join(', ')}]`,
        );
      });
    }
  }

  test('is a type error', () => {
    // Never called: `npm test` type-checks this file first, and the directive fails the check if the call compiles.
    const typeCheckOnly = () => {
      // @ts-expect-error 'opnai' is not a ProviderId
      completionStream('opnai');
      // @ts-expect-error 'opnai' is not a ProviderId
      deltaStream('opnai');
    };
    assert.equal(typeof typeCheckOnly, 'function');
  });
});
