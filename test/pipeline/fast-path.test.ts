// The byte-level fast path (whole events matched against the envelope cache in the raw
// bytes, before framing) must never change what a stream yields: for any bytes and any
// cuts into reads, completionStream and deltaStream give exactly what they give with the
// cache switched off (every event framed and fully parsed).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { getProvider, type ProviderId } from '../../lib/providers/index.js';
import type { DeltaObject, ResponseReader } from '../../lib/providers/types.js';
import { completionStream, type CompletionStreamOptions } from '../../lib/index.js';
import { completionEvent } from '../../lib/stages.js';
import { cutAt, cutEvery, runCompletion, runDeltas, source } from '../helpers/streams.js';
import { fuzzParams } from '../helpers/fuzz.js';

/** The provider with its envelope cache resting for ever: every event takes the plain path. */
function uncached(id: ProviderId): ResponseReader {
  const p = getProvider(id);
  return {
    id: p.id,
    errorMessage: (body) => p.errorMessage(body),
    createNormalizer() {
      const n = p.createNormalizer();
      assert.ok(n.envelopeCache, `${id} has an envelope cache`);
      (n.envelopeCache as unknown as { rest: number }).rest = Infinity;
      return n;
    },
  };
}

/** The provider with a count of the frames that reach its normalizer: the events the fast path did not read. */
function framedCounter(id: ProviderId): { reader: ResponseReader; framed: number } {
  const p = getProvider(id);
  const counter = {
    framed: 0,
    reader: {
      id: p.id,
      errorMessage: (body) => p.errorMessage(body),
      createNormalizer() {
        const n = p.createNormalizer();
        const frame = n.frame.bind(n);
        n.frame = (f, out) => {
          counter.framed++;
          frame(f, out);
        };
        return n;
      },
    } as ResponseReader,
  };
  return counter;
}

/** completionStream's output bytes, not decoded (so that a byte that is not UTF-8 shows). */
async function completionBytes(
  provider: ProviderId,
  chunks: readonly Buffer[],
  options?: CompletionStreamOptions,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of source(chunks).pipe(completionStream(provider, options))) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

/** Asserts equal bytes, naming the first difference (a diff of two Buffers would take long to print). */
function sameBytes(got: Buffer, want: Buffer): void {
  if (got.equals(want)) return;
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  const around = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, i - 40), i + 40).toString('latin1'));
  assert.fail(`bytes differ at ${i}: got ${around(got)}, want ${around(want)}`);
}

/** Answer texts in Elasticsearch SSE output, in order, and how it ended. */
function parseOutput(sse: string): { texts: string[]; end: string } {
  const texts: string[] = [];
  let end = 'none';
  for (const block of sse.split('\n\n')) {
    const data = block.split('\n').find((l) => l.startsWith('data: '));
    if (data === undefined) continue;
    const payload = data.slice(6);
    if (payload === '[DONE]') end = 'done';
    else if (block.startsWith('event: error')) end = 'error ' + payload;
    else for (const d of (JSON.parse(payload) as { completion: { delta: string }[] }).completion) texts.push(d.delta);
  }
  return { texts, end };
}

const textChars = fc.constantFrom('a', ' ', 'é', '🌍', '東', '\n', '"', '\\', '\t', '\u2028', '\u007f', 'Z');
/** A JSON string token, sometimes with escapes, sometimes invalid UTF-8 or broken. */
const token: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: textChars, maxLength: 10 }).map((s) => Buffer.from(JSON.stringify(s))) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: textChars, maxLength: 6 })
      .map((s) => Buffer.from(JSON.stringify(s).replace(/a/g, '\\u0061'))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Buffer.from([0x22, 0x61, 0xe6, 0x9d, 0x22]),
      Buffer.from([0x22, 0xff, 0x62, 0x22]),
      Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]),
    ),
  },
  {
    // Escapes JSON.stringify would not write, some it would, and bytes that are UTF-8 or not.
    weight: 2,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constantFrom(
            '\\/',
            '\\u00e9',
            '\\u00E9',
            '\\u001f',
            '\\u001F',
            '\\ud83c',
            '\\ud83c\\udf0d',
            '\\"',
            '\\n',
            'q',
          ),
          fc.constantFrom(
            ...[
              [0xc3, 0xa9],
              [0xc0, 0x80],
              [0xc1, 0xbf],
              [0xc2],
              [0xe0, 0x80, 0x80],
              [0xe0, 0xa0, 0x80],
              [0xef, 0xbf, 0xbf],
              [0xed, 0x9f, 0xbf],
              [0xed, 0xb0, 0x80],
              [0xf0, 0x8f, 0xbf, 0xbf],
              [0xf0, 0x90, 0x80, 0x80],
              [0xf4, 0x8f, 0xbf, 0xbf],
              [0xf4, 0x90, 0x80, 0x80],
              [0xf5, 0x80, 0x80, 0x80],
              [0xe2, 0x82],
              [0x80],
              [0xbf, 0x61],
            ].map((b) => Buffer.from(b).toString('latin1')),
          ),
        ),
        { maxLength: 5 },
      )
      .map((parts) => Buffer.concat([Buffer.from('"'), Buffer.from(parts.join(''), 'latin1'), Buffer.from('"')])),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('"a\\"', '"x","y":"', '1', 'null', '"ok" ', '"\u0001"', '"a\nb"')
      .map((s) => Buffer.from(s)),
  },
);
const padValue = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'Q', '7'), maxLength: 8 }).map((s) => `"${s}"`),
  fc.constantFrom('"a\\u0062"', '"x\\""', '7', '"t\tb"'),
);

const ENVELOPES = [
  [
    '{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":',
    '},"logprobs":null,"finish_reason":null}],"usage":null',
  ],
  ['{"id":"c2","choices":[{"index":0,"delta":{"content":', '}}]'],
  ['{"choices":[{"index":1,"delta":{"content":', '}}]'],
  ['{"choices":[{"index":0,"delta":{"content":', '}}],"error":{"message":"boom"}'],
];

/** One OpenAI-style SSE event, in bytes, in one of many spellings. */
const openAiEvent: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.nat(ENVELOPES.length - 1),
        token,
        fc.option(padValue, { nil: undefined }),
        fc.constantFrom('data: ', 'data: ', 'data: ', 'data:', 'event: message\ndata: ', 'id: 7\ndata: '),
        fc.constantFrom('\n\n', '\n\n', '\n\n', '\r\n\r\n', '\r\r', '\n\r\n'),
      )
      .map(([e, tok, pad, head, end]) =>
        Buffer.concat([
          Buffer.from(head + ENVELOPES[e]![0]),
          tok,
          Buffer.from(ENVELOPES[e]![1] + (pad === undefined ? '' : ',"obfuscation":' + pad) + '}' + end),
        ]),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
        'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
        'data: {"choices":[],"usage":{"prompt_tokens":1}}\n\n',
        ': keep-alive\n\n',
        '\n',
        'data: {"choices":[{"index":0,"delta":{"content":"a"}}],"obfuscation":"x","obfuscation":"y"}\n\n',
        'data: {"obfuscation":"x","choices":[{"index":0,"delta":{"content":"b"}}]}\n\n',
        'data: {"choices":[{"index":0,"delta":{"content":"c"}}]}\ndata: {"x":1}\n\n',
        'event: error\ndata: {"choices":[{"index":0,"delta":{"content":"d"}}]}\n\n',
        // JSON over two data lines, and the same bytes without the second `data:` (a field named `"delta"`).
        'data: {"choices":[{"index":0,\ndata: "delta":{"content":"m"}}]}\n\n',
        'data: {"choices":[{"index":0,\n"delta":{"content":"n"}}]}\n\n',
      )
      .map((s) => Buffer.from(s)),
  },
);

const ollamaLine: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(token, padValue, fc.constantFrom('\n', '\n', '\r\n', '\r'))
      .map(([tok, pad, end]) =>
        Buffer.concat([
          Buffer.from('{"model":"m","created_at":' + pad + ',"message":{"role":"assistant","content":'),
          tok,
          Buffer.from('},"done":false}' + end),
        ]),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '\n',
        '{"model":"m","created_at":"t","message":{"role":"assistant","content":"x","thinking":"y"},"done":false}\n',
      )
      .map((s) => Buffer.from(s)),
  },
);

const anthropicEvent: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(token, fc.constantFrom('content_block_delta', 'content_block_delta', 'ping', 'error', 'message'))
      .map(([tok, name]) =>
        Buffer.concat([
          Buffer.from(
            `event: ${name}\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`,
          ),
          tok,
          Buffer.from('}}\n\n'),
        ]),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        'event: ping\ndata: {"type": "ping"}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"t"}}\n\n',
      )
      .map((s) => Buffer.from(s)),
  },
);

const awsCodec = new EventStreamCodec(
  (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8'),
  (text: string) => Buffer.from(text, 'utf8'),
);
/** One AWS event-stream frame with these string headers and payload bytes. */
function awsFrame(headers: Record<string, string>, payload: Buffer): Buffer {
  const encoded = awsCodec.encode({
    headers: Object.fromEntries(Object.entries(headers).map(([k, value]) => [k, { type: 'string' as const, value }])),
    body: payload,
  });
  return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}
const awsEvent = (type: string, payload: Buffer | string) =>
  awsFrame(
    { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    Buffer.from(payload),
  );

/** Bedrock ConverseStream text frames in many spellings (padding `p` present or not, something after the object…). */
const bedrockFrame: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        token,
        fc.option(padValue, { nil: undefined }),
        fc.constantFrom('contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStart'),
        fc.constantFrom('', '', '', ' ', '\n', '}', ',"x":1}'),
        fc.constantFrom(0, 0, 0, 1),
      )
      .map(([tok, pad, name, after, index]) =>
        awsEvent(
          name,
          Buffer.concat([
            Buffer.from(`{"contentBlockIndex":${index},"delta":{"text":`),
            tok,
            Buffer.from('}' + (pad === undefined ? '' : ',"p":' + pad) + '}' + after),
          ]),
        ),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      awsEvent('contentBlockStop', '{"contentBlockIndex":0,"p":"ab"}'),
      awsEvent('contentBlockDelta', '{"p":"x","contentBlockIndex":0,"delta":{"text":"moved"}}'),
      awsEvent('contentBlockDelta', '{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"r"}},"p":"q"}'),
      awsFrame(
        { ':event-type': 'contentBlockDelta', ':message-type': 'event' },
        Buffer.from('{"contentBlockIndex":0,"delta":{"text":"no content type"},"p":"z"}'),
      ),
    ),
  },
);

/** A usage count as Gemini writes it (mostly), or something a count must not be read as. */
const usageCount = fc.oneof(
  { weight: 8, arbitrary: fc.nat(200000).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('0', '1.5', '-3', '1e3', '123456789012345', '1234567890123456', '007', 'null', '"9"'),
  },
);

/** The parts of a Gemini chunk around its text token `@T@`, by kind. */
function geminiChunkValue(kind: number): unknown {
  const usage = { promptTokenCount: '@P@', candidatesTokenCount: '@C@', totalTokenCount: '@S@' };
  const candidate = (parts: unknown[], extra: object = {}) => ({
    candidates: [{ content: { parts, role: 'model' }, index: 0, ...extra }],
  });
  switch (kind) {
    case 0:
      return {
        ...candidate([{ text: '@T@' }]),
        usageMetadata: usage,
        modelVersion: 'gemini-2.5-flash',
        responseId: 'r1',
      };
    case 1:
      return candidate([{ text: '@T@' }]);
    case 2:
      return { ...candidate([{ text: '@T@' }], { finishReason: 'STOP' }), usageMetadata: usage };
    case 3:
      return {
        ...candidate([{ text: '@T@' }]),
        usageMetadata: { ...usage, promptTokensDetails: [{ modality: 'TEXT', tokenCount: '@C@' }] },
      };
    case 4:
      return { ...candidate([{ text: '@T@', thought: true }]), usageMetadata: usage };
    case 5:
      return { ...candidate([{ text: '@T@' }, { text: 'and' }]), usageMetadata: usage };
    case 6:
      return { candidates: [{ content: { parts: [{ text: '@T@' }] }, index: 1 }], usageMetadata: usage };
    case 7:
      return {
        ...candidate([{ functionCall: { id: 'call_1', name: 'f', args: { a: '@C@' } } }]),
        usageMetadata: usage,
      };
    default:
      return { error: { code: 503, message: 'The model is overloaded @T@', status: 'UNAVAILABLE' } };
  }
}

/** One Gemini chunk in bytes: `spelling` 0 compact, 1 `": "` separators (alt=sse), 2 pretty LF, 3 pretty CRLF. */
function geminiChunk(kind: number, spelling: number, tok: Buffer, counts: readonly string[]): Buffer {
  const value = geminiChunkValue(kind);
  let text =
    spelling >= 2
      ? JSON.stringify(value, null, 2).replace(/\n/g, spelling === 3 ? '\r\n' : '\n')
      : JSON.stringify(value).replace(/":/g, spelling === 1 ? '": ' : '":');
  text = text.replace('"@P@"', counts[0]!).replace(/"@C@"/g, counts[1]!).replace('"@S@"', counts[2]!);
  if (!text.includes('"@T@"')) return Buffer.from(text.replace('@T@', 'x'));
  const [before, after] = text.split('"@T@"');
  return Buffer.concat([Buffer.from(before!), tok, Buffer.from(after!)]);
}

const geminiParts = fc.tuple(
  fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(8) }),
  token,
  fc.array(usageCount, { minLength: 3, maxLength: 3 }),
);
/** Elements of a streamed Gemini array, each with the separator before it. */
const geminiElement = fc
  .tuple(geminiParts, fc.constantFrom(0, 2, 3, 3), fc.constantFrom(',\r\n', ',\r\n', ',\n', ','))
  .map(([[kind, tok, counts], spelling, sep]) =>
    Buffer.concat([Buffer.from(sep), geminiChunk(kind, spelling, tok, counts)]),
  );
/** Gemini alt=sse events (CRLF, as Google writes them, or LF). */
const geminiEvent = fc
  .tuple(geminiParts, fc.constantFrom(0, 1, 1), fc.constantFrom('\r\n\r\n', '\r\n\r\n', '\n\n'))
  .map(([[kind, tok, counts], spelling, end]) =>
    Buffer.concat([Buffer.from('data: '), geminiChunk(kind, spelling, tok, counts), Buffer.from(end)]),
  );

function property(provider: ProviderId, event: fc.Arbitrary<Buffer>, ending: string | Buffer, first: string | Buffer) {
  return fc.asyncProperty(
    fc.array(event, { minLength: 1, maxLength: 40 }),
    fc.array(fc.nat(4000), { maxLength: 12 }),
    fc.boolean(),
    async (events, cuts, wholeEvents) => {
      const parts = [Buffer.from(first), ...events, Buffer.from(ending)];
      const body = Buffer.concat(parts);
      // Either cut anywhere, or one read per event (the common case the fast path is for).
      const chunks = wholeEvents
        ? parts.filter((p) => p.length > 0)
        : cutAt(
            body,
            cuts.map((c) => c % (body.length + 1)),
          );
      const expected = await runDeltas(uncached(provider) as never, [body]);
      const got = await runDeltas(provider, chunks);
      assert.deepEqual(got, expected);
      const out = parseOutput(await runCompletion(provider, chunks));
      const want = parseOutput(await runCompletion(uncached(provider) as never, [body]));
      assert.deepEqual(out, want);
      // Byte for byte, in the same reads: texts copied from the provider's bytes as they are
      // (no onDelta hook) are written exactly as the texts parsed in full are.
      const bytes = await completionBytes(provider, chunks);
      sameBytes(bytes, await completionBytes(uncached(provider) as never, chunks));
      sameBytes(bytes, await completionBytes(provider, chunks, { onDelta: () => {} }));
      assert.deepEqual(
        out.texts,
        expected.deltas.filter((d): d is { delta: string } => 'delta' in d).map((d) => d.delta),
      );
    },
  );
}

describe('byte-level fast path', () => {
  test('openai SSE: same deltas and output as with the cache off, for any spelling and any cuts', async () => {
    await fc.assert(
      property(
        'openai',
        openAiEvent,
        'data: [DONE]\n\n',
        'data: {"choices":[{"index":0,"delta":{"content":"first"}}]}\n\n',
      ),
      fuzzParams(150),
    );
  });

  test('ollama NDJSON (created_at varies): same as with the cache off', async () => {
    await fc.assert(
      property(
        'ollama',
        ollamaLine,
        '{"model":"m","created_at":"z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true}\n',
        '',
      ),
      fuzzParams(150),
    );
  });

  test('openai SSE with CRLF line ends: same as with the cache off', async () => {
    await fc.assert(
      property(
        'openai',
        openAiEvent,
        'data: [DONE]\r\n\r\n',
        'data: {"choices":[{"index":0,"delta":{"content":"first"}}]}\r\n\r\n',
      ),
      fuzzParams(100),
    );
  });

  test('anthropic SSE: same as with the cache off', async () => {
    await fc.assert(
      property('anthropic', anthropicEvent, 'event: message_stop\ndata: {"type":"message_stop"}\n\n', ''),
      fuzzParams(150),
    );
  });

  test('bedrock event stream (payloads read from the frame bytes): same as with the cache off', async () => {
    await fc.assert(
      property(
        'amazonbedrock',
        bedrockFrame,
        Buffer.concat([
          awsEvent('messageStop', '{"stopReason":"end_turn","p":"abc"}'),
          awsEvent('metadata', '{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3},"p":"x"}'),
        ]),
        Buffer.concat([
          awsEvent('messageStart', '{"role":"assistant","p":"abcd"}'),
          awsEvent('contentBlockDelta', '{"contentBlockIndex":0,"delta":{"text":"first"},"p":"abcdef"}'),
        ]),
      ),
      fuzzParams(150),
    );
  });

  test('gemini streamed JSON array (usage counts vary): same as with the cache off', async () => {
    const first = geminiChunk(0, 3, Buffer.from('"first"'), ['9', '1', '10']);
    await fc.assert(
      property('googleaistudio', geminiElement, '\r\n]', Buffer.concat([Buffer.from('['), first])),
      fuzzParams(150),
    );
  });

  test('gemini alt=sse (usage counts vary): same as with the cache off', async () => {
    const first = geminiChunk(0, 1, Buffer.from('"first"'), ['9', '1', '10']);
    await fc.assert(
      property(
        'googleaistudio',
        geminiEvent,
        '',
        Buffer.concat([Buffer.from('data: '), first, Buffer.from('\r\n\r\n')]),
      ),
      fuzzParams(150),
    );
  });

  test('gemini: chunks read from the cache keep the last usage, in every framing', async () => {
    const chunk = (i: number, spelling: number) =>
      geminiChunk(0, spelling, Buffer.from(JSON.stringify(`w${i} `)), ['7', String(i), String(i + 7)]);
    const streams = {
      array: [
        Buffer.concat([Buffer.from('['), chunk(0, 3)]),
        ...Array.from({ length: 60 }, (_, i) => Buffer.concat([Buffer.from(',\r\n'), chunk(i + 1, 3)])),
        Buffer.from('\r\n]'),
      ],
      sse: Array.from({ length: 61 }, (_, i) =>
        Buffer.concat([Buffer.from('data: '), chunk(i, 1), Buffer.from('\r\n\r\n')]),
      ),
    };
    for (const [name, reads] of Object.entries(streams)) {
      const counting = framedCounter('googleaistudio');
      const got = await runDeltas(counting.reader as never, reads);
      assert.equal(got.error, null, name);
      assert.deepEqual(
        got.deltas.filter((d) => 'delta' in d).map((d) => (d as { delta: string }).delta),
        Array.from({ length: 61 }, (_, i) => `w${i} `),
        name,
      );
      assert.deepEqual(
        got.deltas.find((d) => 'usage' in d),
        (await runDeltas(uncached('googleaistudio') as never, [Buffer.concat(reads)])).deltas.find((d) => 'usage' in d),
        name,
      );
      assert.match(JSON.stringify(got.deltas.at(-1)), /"totalTokenCount":67\b/, name);
      // The first two chunks are framed and parsed (the second is learned from); the rest are read from the bytes.
      assert.ok(counting.framed <= 2, `${name}: ${counting.framed} of 61 chunks framed`);
    }
  });

  test('a shape learned from JSON over several data lines is never matched in the bytes', async () => {
    // The second event's data is one JSON value over two `data:` lines; the third event has the
    // same bytes but for the second `data:`, which makes its second line a field of its own.
    const chunks = [
      'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
      'data: {"choices":[{"index":0,\ndata: "delta":{"content":"hi"}}]}\n\n',
      'data: {"choices":[{"index":0,\n"delta":{"content":"yo"}}]}\n\n',
      'data: [DONE]\n\n',
    ].map((s) => Buffer.from(s));
    const want = await runDeltas(uncached('openai') as never, chunks);
    assert.equal(want.error?.type, 'x_content_parse_exception');
    assert.deepEqual(await runDeltas('openai', chunks), want);
    assert.deepEqual(await runDeltas('openai', [Buffer.concat(chunks)]), want);
  });

  test('the fast path is taken: a stream of repeated envelopes yields every delta', async () => {
    const ev = (t: string) =>
      `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}}}],"obfuscation":"${'x'.repeat(t.length)}"}\n\n`;
    const texts = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? `t${i} é` : i % 3 === 1 ? `"${i}"` : `${i}`));
    const chunks = [...texts.map((t) => Buffer.from(ev(t))), Buffer.from('data: [DONE]\n\n')];
    for (const reads of [chunks, [chunks[0]!, Buffer.concat(chunks.slice(1))]]) {
      const counting = framedCounter('openai');
      const got = await runDeltas(counting.reader as never, reads);
      assert.deepEqual(got, { deltas: texts.map((delta) => ({ delta })) as DeltaObject[], error: null });
      // The first event is learned from; [DONE] is framed; every other event is read from the bytes.
      assert.ok(counting.framed <= 3, `framed ${counting.framed} of ${chunks.length} events`);
    }
  });
});

describe('texts copied from the provider bytes as they are', () => {
  // Content of a JSON string token: ASCII, escapes of every kind (those JSON.stringify
  // writes and others), any Unicode text, and byte sequences that are UTF-8 or just not.
  /** A byte sequence at the edges of UTF-8: each lead byte's limits, each continuation range's. */
  const utf8Edge = fc
    .tuple(
      fc.constantFrom(
        0x7f,
        0x80,
        0xbf,
        0xc0,
        0xc1,
        0xc2,
        0xdf,
        0xe0,
        0xe1,
        0xec,
        0xed,
        0xee,
        0xef,
        0xf0,
        0xf1,
        0xf3,
        0xf4,
        0xf5,
        0xff,
      ),
      fc.array(fc.constantFrom(0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0), { maxLength: 3 }),
    )
    .map(([lead, rest]) => Buffer.from([lead, ...rest]));
  const contentPart = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .string({ unit: fc.integer({ min: 0x20, max: 0x7f }).map((c) => String.fromCharCode(c)), minLength: 1 })
        .map((t) => Buffer.from(t.replace(/["\\]/g, 'x'))),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...['\\"', '\\\\', '\\b', '\\f', '\\n', '\\r', '\\t'].map((e) => Buffer.from(e))),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ...['\\/', '\\u0000', '\\u001f', '\\u001F', '\\u00e9', '\\u2028', '\\ud83c', '\\udf0d', '\\ud83c\\udf0d'].map(
          (e) => Buffer.from(e),
        ),
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .string({ unit: 'binary', minLength: 1, maxLength: 3 })
        .map((t) => Buffer.from(JSON.stringify(t).slice(1, -1))),
    },
  );
  // At most one sequence at the edges of UTF-8 per token, so that its own fate decides how the token is written.
  const token = fc
    .tuple(fc.array(contentPart, { maxLength: 6 }), fc.option(utf8Edge, { nil: undefined, freq: 2 }), fc.nat())
    .map(([parts, edge, at]) => {
      if (edge !== undefined) parts.splice(at % (parts.length + 1), 0, edge);
      return Buffer.concat([Buffer.from('"'), ...parts, Buffer.from('"')]);
    });

  test('every event is written byte for byte as JSON.stringify writes its text', async () => {
    const ev = (tok: Buffer) =>
      Buffer.concat([Buffer.from('data: {"choices":[{"index":0,"delta":{"content":'), tok, Buffer.from('}}]}\n\n')]);
    await fc.assert(
      fc.asyncProperty(token, async (tok) => {
        const text = JSON.parse(tok.toString('utf8')) as string;
        const chunks = [
          ev(Buffer.from('"first"')),
          ev(tok),
          ev(Buffer.from('"last"')),
          Buffer.from('data: [DONE]\n\n'),
        ];
        const want = Buffer.from(
          completionEvent(['first']) +
            (text === '' ? '' : completionEvent([text])) +
            completionEvent(['last']) +
            'event: message\ndata: [DONE]\n\n',
        );
        sameBytes(await completionBytes('openai', chunks), want);
        // All in one read: one event with the three texts.
        const one = Buffer.from(
          completionEvent(text === '' ? ['first', 'last'] : ['first', text, 'last']) +
            'event: message\ndata: [DONE]\n\n',
        );
        sameBytes(await completionBytes('openai', [Buffer.concat(chunks)]), one);
      }),
      // a failure is reported as found: shrinking these tokens takes minutes
      { ...fuzzParams(400), endOnFailure: true },
    );
  });

  test('every byte sequence at the edges of UTF-8 is written as decoding and JSON.stringify write it', async () => {
    // Every lead byte, each followed by the continuation range's edges: overlong forms,
    // surrogates, code points past U+10FFFF, truncated sequences, stray continuation bytes.
    const tokens: Buffer[] = [];
    for (let lead = 0x80; lead <= 0xff; lead++)
      for (const second of [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0])
        for (const third of [-1, 0x41, 0x80, 0xbf])
          for (const fourth of [-1, 0x80, 0xbf]) {
            const bytes = [0x22, 0x61, lead, second];
            if (third !== -1) bytes.push(third);
            if (third !== -1 && fourth !== -1) bytes.push(fourth);
            bytes.push(0x22);
            tokens.push(Buffer.from(bytes));
          }
    const ev = (tok: Buffer) =>
      Buffer.concat([Buffer.from('data: {"choices":[{"index":0,"delta":{"content":'), tok, Buffer.from('}}]}\n\n')]);
    const chunks = [ev(Buffer.from('"first"')), ...tokens.map(ev), Buffer.from('data: [DONE]\n\n')];
    let want = completionEvent(['first']);
    for (const tok of tokens) want += completionEvent([JSON.parse(tok.toString('utf8')) as string]);
    // A readable side that never fills: every read is its own event, as it is when the consumer keeps up.
    const bytes = await completionBytes('openai', chunks, { highWaterMark: 1 << 26 });
    sameBytes(bytes, Buffer.from(want + 'event: message\ndata: [DONE]\n\n'));
  });

  test('bedrock: texts of frames collected across reads are written right', async () => {
    // Every read ends inside a frame, so most frames are collected in the framing's own buffer,
    // which the next frame overwrites within the same read.
    const texts = Array.from({ length: 40 }, (_, i) => `text ${i} ${'x'.repeat(i % 7)}`);
    const frames = [
      awsEvent('messageStart', '{"role":"assistant","p":"abcd"}'),
      ...texts.map((t, i) =>
        awsEvent(
          'contentBlockDelta',
          `{"contentBlockIndex":0,"delta":{"text":${JSON.stringify(t)}},"p":"${'p'.repeat(i % 5)}"}`,
        ),
      ),
      awsEvent('messageStop', '{"stopReason":"end_turn","p":"abc"}'),
      awsEvent('metadata', '{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3},"p":"x"}'),
    ];
    const body = Buffer.concat(frames);
    for (const size of [150, 251, 397]) {
      const chunks = cutEvery(body, size);
      const got = parseOutput((await completionBytes('amazonbedrock', chunks)).toString('utf8'));
      assert.deepEqual(got, { texts, end: 'done' });
      sameBytes(
        await completionBytes('amazonbedrock', chunks),
        await completionBytes('amazonbedrock', chunks, { onDelta: () => {} }),
      );
    }
  });
});
