// Gemini / Vertex AI behaviour that a single fixture body cannot state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutEvery, runDeltas } from '../helpers/streams.js';

test('an empty 200 body is incomplete for both Gemini providers (EOF is only a clean end after a chunk)', async () => {
  for (const provider of ['googleaistudio', 'googlevertexai'] as const) {
    for (const contentType of ['text/event-stream', undefined]) {
      const got = await runDeltas(provider, [Buffer.alloc(0)], { contentType });
      assert.deepEqual(got.deltas, []);
      assert.equal(got.error?.type, 'incomplete_stream', `${provider} ${contentType}`);
    }
  }
});

test("Vertex AI's raw Google error after Anthropic events is an error with Google's code, not an ignored event", async () => {
  const body =
    'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[]}}\n\n' +
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n' +
    '{\n  "error": {\n    "code": 503,\n    "message": "Service unavailable",\n    "status": "UNAVAILABLE"\n  }\n}\n';
  const got = await runDeltas('googlevertexai', cutEvery(Buffer.from(body), 7));
  assert.deepEqual(got.deltas, [{ role: 'assistant', id: 'm' }, { delta: 'Hi' }]);
  assert.equal(got.error?.type, 'status_exception');
  assert.equal(got.error?.status, 503);
  assert.match(got.error?.reason ?? '', /Service unavailable/);
});

test('Vertex AI: once a stream is Gemini, a later object with a `type` is not read as Anthropic', async () => {
  const body =
    'data: {"candidates":[{"content":{"parts":[{"text":"A"}],"role":"model"},"index":0}]}\r\n\r\n' +
    'data: {"type":"message_stop"}\r\n\r\n' +
    'data: {"candidates":[{"content":{"parts":[{"text":"B"}],"role":"model"},"finishReason":"STOP","index":0}]}\r\n\r\n';
  const got = await runDeltas('googlevertexai', [Buffer.from(body)]);
  assert.deepEqual(got, {
    deltas: [{ role: 'assistant' }, { delta: 'A' }, { delta: 'B' }, { finish_reason: 'STOP' }],
    error: null,
  });
});

test('Gemini usage: only the last cumulative usageMetadata is reported, after the finish reason', async () => {
  const chunk = (text: string, n: number, finish = '') =>
    `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text }] }, ...(finish ? { finishReason: finish } : {}) }], usageMetadata: { promptTokenCount: 2, candidatesTokenCount: n, totalTokenCount: 2 + n } })}\r\n\r\n`;
  const got = await runDeltas('googleaistudio', [Buffer.from(chunk('a', 1) + chunk('b', 2) + chunk('c', 3, 'STOP'))]);
  const usages = got.deltas.filter((d) => 'usage' in d);
  assert.deepEqual(usages, [{ usage: { promptTokenCount: 2, candidatesTokenCount: 3, totalTokenCount: 5 } }]);
  assert.deepEqual(got.deltas.slice(-2), [{ finish_reason: 'STOP' }, usages[0]]);
});
