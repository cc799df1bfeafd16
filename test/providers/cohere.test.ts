// Cohere and Ollama bodies under every framing that can meet them: the fixtures replay a
// body with its own content type and sniffed, these check the framings against each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutEvery, runDeltas } from '../helpers/streams.js';

const v1Lines = [
  { event_type: 'stream-start', generation_id: 'g' },
  { event_type: 'text-generation', text: 'Hi' },
  { event_type: 'text-generation', text: ' ✓' },
  { event_type: 'stream-end', finish_reason: 'COMPLETE', response: { text: 'Hi ✓' } },
];
const expected = [{ delta: 'Hi' }, { delta: ' ✓' }, { finish_reason: 'COMPLETE' }];

test('cohere v1: the same objects as NDJSON, as a JSON sequence and as SSE (Accepts: text/event-stream) give the same deltas', async () => {
  const ndjson = Buffer.from(v1Lines.map((o) => JSON.stringify(o)).join('\n') + '\n');
  const sse = Buffer.from(v1Lines.map((o) => `event: ${o.event_type}\ndata: ${JSON.stringify(o)}\n\n`).join(''));
  for (const [body, options] of [
    [ndjson, { contentType: 'application/stream+json' }],
    [ndjson, { framing: 'json-sequence' as const }],
    [ndjson, {}],
    [sse, { contentType: 'text/event-stream' }],
  ] as const) {
    const got = await runDeltas('cohere', cutEvery(body, 3), options);
    assert.deepEqual(got, { deltas: expected, error: null }, JSON.stringify(options));
  }
});

test('cohere v2: a [DONE] data line after message-end is not a parse error', async () => {
  const body =
    'event: content-delta\ndata: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"x"}}}}\n\n' +
    'event: message-end\ndata: {"type":"message-end","delta":{"finish_reason":"COMPLETE"}}\n\n' +
    'data: [DONE]\n\n';
  assert.deepEqual(await runDeltas('cohere', [Buffer.from(body)]), {
    deltas: [{ delta: 'x' }, { finish_reason: 'COMPLETE' }],
    error: null,
  });
});

test('cohere v1: a finish_reason that is an Object.prototype key is a plain finish reason', async () => {
  const body =
    '{"event_type":"text-generation","text":"a"}\n{"event_type":"stream-end","finish_reason":"constructor"}\n';
  assert.deepEqual(await runDeltas('cohere', [Buffer.from(body)]), {
    deltas: [{ delta: 'a' }, { finish_reason: 'constructor' }],
    error: null,
  });
});

// A line cut off by the end of input is a truncation, whichever framing reads it: the JSON
// sequence framing (sniffed) and the NDJSON framing (content type) must agree.
for (const [provider, body, contentType] of [
  ['cohere', '{"event_type":"text-generation","text":"Hello"}\n{"event_type":"text-gen', 'application/stream+json'],
  ['ollama', '{"message":{"content":"Hello"},"done":false}\n{"message":{"con', 'application/x-ndjson'],
] as const) {
  test(`${provider}: input cut inside the last line is incomplete_stream, sniffed`, async () => {
    const got = await runDeltas(provider, cutEvery(Buffer.from(body), 4));
    assert.deepEqual(
      got.deltas.filter((d) => !('role' in d)),
      [{ delta: 'Hello' }],
    );
    assert.equal(got.error?.type, 'incomplete_stream');
  });

  test(`${provider}: input cut inside the last line is incomplete_stream, with content type ${contentType}`, async () => {
    const got = await runDeltas(provider, cutEvery(Buffer.from(body), 4), { contentType });
    assert.deepEqual(
      got.deltas.filter((d) => !('role' in d)),
      [{ delta: 'Hello' }],
    );
    assert.equal(got.error?.type, 'incomplete_stream');
  });
}
