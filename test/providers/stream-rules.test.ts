// The rules every provider reader follows, whatever the provider: what ends a stream, what
// may come after its end, what an error event is, how a cut-off last event is judged, how an
// event carrying several JSON objects is read. Each body is run whole, in 1-byte reads and
// at every two-way cut, and must give the same outcome every time.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { DeltaObject, ProviderId } from '../../lib/index.js';
import { normalize, sseParser } from '../../lib/stages.js';
import { answer, cutAt, cutEvery, runDeltas, source, type DeltaOutcome } from '../helpers/streams.js';

/** Runs the body under many cuts, asserts they agree, returns the one outcome. */
async function run(provider: ProviderId, body: string, contentType = 'text/event-stream'): Promise<DeltaOutcome> {
  const bytes = Buffer.from(body);
  const whole = await runDeltas(provider, [bytes], { contentType });
  const cuts: Buffer[][] = [cutEvery(bytes, 1)];
  const step = Math.max(1, Math.floor(bytes.length / 40));
  for (let i = 1; i < bytes.length; i += step) cuts.push(cutAt(bytes, [i]));
  for (const chunks of cuts) {
    assert.deepEqual(await runDeltas(provider, chunks, { contentType }), whole, `${provider}: ${chunks.length} reads`);
  }
  return whole;
}

const textOf = (o: DeltaOutcome) => answer(o.deltas);
const chunk = (content: string, extra = '') =>
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] }) + extra;

describe('the end marker [DONE]', () => {
  test('only the whole data `[DONE]` ends an OpenAI-style stream, in any case', async () => {
    for (const marker of ['[DONE]', '[done]', '[Done]']) {
      const got = await run('openai', `data: ${chunk('Tea')}\n\ndata: ${marker}\n\n`);
      assert.deepEqual({ text: textOf(got), error: got.error }, { text: 'Tea', error: null }, marker);
    }
  });

  test('text glued to [DONE], a space or tab after it, or a second data line is not an end but bad JSON', async () => {
    for (const data of [
      '[DONE]leaked-answer',
      '[DONE] ',
      '[DONE]\t',
      '[DONE]\ndata: {"choices":[]}',
      '[DONE]x[DONE]',
    ]) {
      const got = await run('openai', `data: ${chunk('Tea')}\n\ndata: ${data}\n\n`);
      assert.equal(textOf(got), 'Tea', JSON.stringify(data));
      assert.equal(got.error?.type, 'x_content_parse_exception', JSON.stringify(data));
    }
    // The same for the other readers that take [DONE]: DeepSeek, Mistral, Hugging Face chat, DashScope compatible mode.
    for (const provider of ['deepseek', 'mistral', 'hugging_face', 'alibabacloud'] as const) {
      const got = await run(provider, `data: ${chunk('Tea')}\n\ndata: [DONE]more\n\n`);
      assert.equal(got.error?.type, 'x_content_parse_exception', provider);
    }
  });

  test('nothing after the end marker changes the outcome: not an error event, not bad JSON, not a cut-off event', async () => {
    const tails = [
      'event: error\ndata: {"error":{"message":"too late"}}\n\n',
      'data: {broken\n\n',
      `data: ${chunk(' more')}\n\n`,
      'data: {"choices":[{"delta":{"content":"half',
      'event: error\ndata: null\n\n',
    ];
    for (const tail of tails) {
      const got = await run('openai', `data: ${chunk('Tea')}\n\ndata: [DONE]\n\n${tail}`);
      assert.deepEqual({ text: textOf(got), error: got.error }, { text: 'Tea', error: null }, JSON.stringify(tail));
    }
    // Cohere v1 NDJSON after stream-end, Ollama after done: true.
    const cohere = await run(
      'cohere',
      '{"event_type":"text-generation","text":"Hi"}\n{"event_type":"stream-end","finish_reason":"COMPLETE"}\n{"event_type":"stream-end","finish_reason":"ERROR"}\nnot json\n',
      'application/x-ndjson',
    );
    assert.deepEqual({ text: textOf(cohere), error: cohere.error }, { text: 'Hi', error: null });
    const ollama = await run(
      'ollama',
      '{"message":{"content":"Hi"},"done":false}\n{"message":{"content":""},"done":true}\n{"error":"late"}\n',
      'application/x-ndjson',
    );
    assert.deepEqual({ text: textOf(ollama), error: ollama.error }, { text: 'Hi', error: null });
  });

  test('an error before the marker still fails the stream', async () => {
    const got = await run(
      'openai',
      `data: ${chunk('Tea')}\n\nevent: error\ndata: {"error":{"message":"kettle broke","type":"server_error"}}\n\ndata: [DONE]\n\n`,
    );
    assert.equal(textOf(got), 'Tea');
    assert.equal(got.error?.reason, 'kettle broke');
  });
});

describe('event: error', () => {
  test('is an error whatever its payload: object, nested object, string, null, number, array, boolean', async () => {
    const cases: [string, RegExp][] = [
      ['{"message":"flat failure","type":"server_error"}', /^flat failure$/],
      ['{"error":{"message":"nested failure"}}', /^nested failure$/],
      ['"plain words"', /^plain words$/],
      ['null', /without a message: \[null\]/],
      ['7', /without a message: \[7\]/],
      ['[1,2]', /without a message/],
      ['false', /without a message: \[false\]/],
    ];
    for (const provider of ['openai', 'anthropic', 'alibabacloud', 'watsonxai'] as const) {
      for (const [payload, reason] of cases) {
        const got = await run(provider, `event: error\ndata: ${payload}\n\ndata: [DONE]\n\n`);
        assert.equal(got.error?.type, 'status_exception', `${provider} ${payload}`);
        assert.match(got.error!.reason, reason, `${provider} ${payload}`);
      }
    }
  });

  test('mid-stream errors carry the provider message alone, with the provider status', async () => {
    const anthropic = await run(
      'anthropic',
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m"}}\n\nevent: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Slow down, please"}}\n\n',
    );
    assert.deepEqual(anthropic.error, { type: 'status_exception', reason: 'Slow down, please', status: 429 });
    const gemini = await run(
      'googleaistudio',
      'data: {"candidates":[{"content":{"parts":[{"text":"A"}]}}]}\r\n\r\n{"error":{"code":503,"message":"Model is busy","status":"UNAVAILABLE"}}\n',
    );
    assert.deepEqual(
      { text: textOf(gemini), error: gemini.error },
      { text: 'A', error: { type: 'status_exception', reason: 'Model is busy', status: 503 } },
    );
    const ollama = await run(
      'ollama',
      '{"message":{"content":"A"},"done":false}\n{"error":"out of memory"}\n',
      'application/x-ndjson',
    );
    assert.deepEqual(ollama.error, { type: 'status_exception', reason: 'out of memory', status: 500 });
  });
});

describe('unparsable event JSON', () => {
  test('is an x_content_parse_exception for every JSON reader', async () => {
    const bodies: [ProviderId, string][] = [
      ['openai', 'data: {"choices":[\n\n'],
      ['anthropic', 'event: content_block_delta\ndata: {"type":\n\n'],
      ['googleaistudio', 'data: {candidates}\r\n\r\n'],
      ['cohere', 'event: content-delta\ndata: {nope}\n\n'],
    ];
    for (const [provider, body] of bodies) {
      const got = await run(provider, body);
      assert.equal(got.error?.type, 'x_content_parse_exception', provider);
      assert.equal(got.error?.status, 500, provider);
    }
  });
});

describe('one JSON object on each data line of one event', () => {
  test('Anthropic, Gemini and Vertex AI yield every object, in order', async () => {
    const delta = (t: string) =>
      JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } });
    const anthropic = await run(
      'anthropic',
      `event: message_start\ndata: {"type":"message_start","message":{"id":"m"}}\n\nevent: content_block_delta\ndata: ${delta('Ro')}\ndata: ${delta('se')}\n\ndata: {"type":"message_stop"}\n\n`,
    );
    assert.deepEqual({ text: textOf(anthropic), error: anthropic.error }, { text: 'Rose', error: null });
    const g = (t: string) => JSON.stringify({ candidates: [{ content: { parts: [{ text: t }] } }] });
    for (const provider of ['googleaistudio', 'googlevertexai'] as const) {
      const got = await run(provider, `data: ${g('Li')}\r\ndata: ${g('ly')}\r\n\r\ndata: ${g('!')}\r\n\r\n`);
      assert.deepEqual({ text: textOf(got), error: got.error }, { text: 'Lily!', error: null }, provider);
    }
    const vertexAnthropic = await run(
      'googlevertexai',
      `data: {"type":"message_start","message":{"id":"m"}}\ndata: ${delta('Iris')}\n\ndata: {"type":"message_stop"}\n\n`,
    );
    assert.deepEqual({ text: textOf(vertexAnthropic), error: vertexAnthropic.error }, { text: 'Iris', error: null });
  });

  test('one pretty-printed object over several lines is still one object; a broken line fails the event', async () => {
    const pretty = await run(
      'googleaistudio',
      'data: {\r\ndata:   "candidates": [{"content": {"parts": [{"text": "Fern"}]}}]\r\ndata: }\r\n\r\n',
    );
    assert.deepEqual({ text: textOf(pretty), error: pretty.error }, { text: 'Fern', error: null });
    const broken = await run('googleaistudio', 'data: {"candidates":[]}\r\ndata: {oops\r\n\r\n');
    assert.equal(broken.error?.type, 'x_content_parse_exception');
  });
});

describe('the only choice', () => {
  test('is the answer whatever its index; with several choices, index 0 is', async () => {
    const one = (index: number, content: string) => JSON.stringify({ choices: [{ index, delta: { content } }] });
    const got = await run('openai', `data: ${one(1, 'Oak')}\n\ndata: ${one(3, ' tree')}\n\ndata: [DONE]\n\n`);
    assert.deepEqual({ text: textOf(got), error: got.error }, { text: 'Oak tree', error: null });
    const many = JSON.stringify({
      choices: [
        { index: 1, delta: { content: 'no' } },
        { index: 0, delta: { content: 'yes' } },
      ],
    });
    const both = await run('openai', `data: ${many}\n\ndata: [DONE]\n\n`);
    assert.equal(textOf(both), 'yes');
  });
});

describe('a stream cut inside its last event', () => {
  test('is judged by the provider: complete after its end marker, cut short without it', async () => {
    const openai = await run('openai', `data: ${chunk('Tea')}\n\ndata: {"choices":[{"delta":{"content":"lo`);
    assert.equal(openai.error?.type, 'incomplete_stream');
    const anthropic = await run(
      'anthropic',
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m"}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\nevent: ping\ndata: {"type":"pi',
    );
    assert.equal(anthropic.error, null);
  });

  test('Gemini has no end marker: cut before a finishReason is incomplete, after it the end is clean', async () => {
    const first = '{"candidates":[{"content":{"parts":[{"text":"Moss"}]}}]}';
    const cut = await run(
      'googleaistudio',
      `data: ${first}\r\n\r\ndata: {"candidates":[{"content":{"parts":[{"text":" gre`,
    );
    assert.deepEqual({ text: textOf(cut), type: cut.error?.type }, { text: 'Moss', type: 'incomplete_stream' });
    const finished = '{"candidates":[{"content":{"parts":[{"text":"Moss"}]},"finishReason":"STOP"}]}';
    const after = await run('googleaistudio', `data: ${finished}\r\n\r\ndata: {"usageMetadata":{"promptTok`);
    assert.deepEqual({ text: textOf(after), error: after.error }, { text: 'Moss', error: null });
    // A stream that simply ends after a whole event is clean, as before.
    const clean = await run('googleaistudio', `data: ${first}\r\n\r\n`);
    assert.equal(clean.error, null);
  });

  test('the separate stages agree: sseParser() piped into normalize() reports the cut to the provider', async () => {
    const first = '{"candidates":[{"content":{"parts":[{"text":"Moss"}]}}]}';
    const deltas: DeltaObject[] = [];
    await assert.rejects(
      pipeline(
        source([Buffer.from(`data: ${first}\r\n\r\ndata: {"cand`)]),
        sseParser(),
        normalize('googleaistudio'),
        new Writable({
          objectMode: true,
          write(d: DeltaObject, _e, cb) {
            deltas.push(d);
            cb();
          },
        }),
      ),
      { type: 'incomplete_stream' },
    );
    assert.equal(answer(deltas), 'Moss');
  });
});

describe('Anthropic bodies with several messages', () => {
  test('are complete when the last message reached message_stop', async () => {
    const msg = (t: string) =>
      `event: message_start\ndata: {"type":"message_start","message":{"id":"m"}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${t}"}}\n\n`;
    const stop = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const two = await run('anthropic', msg('One.') + stop + msg(' Two.') + stop);
    assert.deepEqual({ text: textOf(two), error: two.error }, { text: 'One. Two.', error: null });
    const cut = await run('anthropic', msg('One.') + stop + msg(' Two.'));
    assert.equal(cut.error?.type, 'incomplete_stream');
    const late = await run(
      'anthropic',
      msg('One.') +
        stop +
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    );
    assert.deepEqual(late.error, { type: 'status_exception', reason: 'Overloaded', status: 500 });
  });
});

describe('Cohere v1 text-generation', () => {
  test('without a text string is an error, as in Elasticsearch', async () => {
    for (const line of [
      '{"event_type":"text-generation"}',
      '{"event_type":"text-generation","text":null}',
      '{"event_type":"text-generation","text":5}',
    ]) {
      const got = await run(
        'cohere',
        `{"event_type":"text-generation","text":"Yes"}\n${line}\n{"event_type":"stream-end","finish_reason":"COMPLETE"}\n`,
        'application/x-ndjson',
      );
      assert.equal(textOf(got), 'Yes');
      assert.equal(got.error?.reason, 'Null text found in text-generation cohere event', line);
    }
    const empty = await run(
      'cohere',
      '{"event_type":"text-generation","text":""}\n{"event_type":"stream-end","finish_reason":"COMPLETE"}\n',
      'application/x-ndjson',
    );
    assert.equal(empty.error, null);
  });
});
