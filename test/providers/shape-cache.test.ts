// The shape cache must never change what a stream yields: every event read through it
// gives exactly what a full JSON.parse gives, for any text and any envelope.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type DeltaObject, type Frame, type ProviderId } from '../../lib/index.js';
import { getProvider } from '../../lib/stages.js';
import { openAiChunk, OpenAiChatState } from '../../lib/providers/dialects/openai-chat.js';
import { anthropicEvent, AnthropicState } from '../../lib/providers/dialects/anthropic-messages.js';
import { ShapeCache } from '../../lib/providers/shape-cache.js';

/** What one frame yields through a fresh normalizer step with no cache: the reference. */
function referenceOpenAi(data: string, state: OpenAiChatState): DeltaObject[] | 'error' {
  try {
    const json = JSON.parse(data);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return [];
    if (json.error != null || json.object === 'error') return 'error';
    const out: DeltaObject[] = [];
    openAiChunk(json, out, state);
    return out;
  } catch {
    return 'error';
  }
}

function throughNormalizer(provider: ProviderId, frames: Frame[]): (DeltaObject[] | 'error')[] {
  const n = getProvider(provider).createNormalizer();
  return frames.map((f) => {
    const out: DeltaObject[] = [];
    try {
      n.frame(f, out);
      return out;
    } catch {
      return 'error';
    }
  });
}

const text = fc.string({
  unit: fc.constantFrom('a', ' ', '"', '\\', '\n', 'é', '🌍', '}', ',', ':', 'u', '0', '\u2028'),
  maxLength: 12,
});
/** A raw JSON string token for `s`, sometimes with needless escapes, sometimes broken. */
const literal = fc.oneof(
  text.map((s) => JSON.stringify(s)),
  text.map((s) => JSON.stringify(s).replace(/a/g, '\\u0061')),
  fc.constantFrom(
    '"a","x":"b"',
    '"unterminated',
    '"a"b"',
    '"\\"',
    '"ok" ',
    ' "ok"',
    '1',
    'null',
    '{}',
    '"x"}],"y":{"z":"',
  ),
);

describe('shape cache', () => {
  test('openai-style chunks: cached reads equal full parses, whatever the texts and envelopes', () => {
    const envelope = fc.constantFrom(
      [
        '{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":',
        '},"finish_reason":null}]}',
      ],
      ['{"choices":[{"delta":{"content":', '}}],"usage":null}'],
      ['{"choices":[{"index":0,"delta":{"reasoning_content":"r","content":', '}}]}'],
      ['{"choices":[{"index":1,"delta":{"content":', '}}]}'],
      ['{"choices":[{"index":0,"delta":{"content":', '}}],"error":{"message":"x"}}'],
      ['{"choices":[{"index":0,"delta":{"\\u0063ontent":"real"}}],"x":{"content":', '}}'],
      ['{"choices":[{"index":0,"message":{"content":"m"},"delta":{"content":', '}}]}'],
      ['{"choices":[{"index":0,"delta":{"content":', ',"content":"dup"}}]}'],
    );
    // OpenAI pads every chunk with a random `obfuscation` string; sometimes it is not plain.
    const pad = fc.oneof(
      fc.constant(''),
      fc
        .string({ unit: fc.constantFrom('a', 'Z', '0', '"', '\\', ' '), maxLength: 6 })
        .map((p) => `,"obfuscation":${JSON.stringify(p)}`),
      fc.constantFrom(',"obfuscation":"a\\u0062"', ',"obfuscation":"x","obfuscation":"y"', ',"obfuscation":7'),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(envelope, literal, pad), { minLength: 1, maxLength: 12 }), (events) => {
        const frames = events.map(([[pre, post], lit, p]) => ({
          event: 'message',
          id: '',
          data: pre + lit + post.slice(0, -1) + p + '}',
        }));
        const state = new OpenAiChatState();
        const expected = frames.map((f) => referenceOpenAi(f.data, state));
        assert.deepEqual(throughNormalizer('openai', frames), expected);
      }),
      { numRuns: 2000 },
    );
  });

  test('anthropic text deltas: cached reads equal full parses', () => {
    const pre = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":';
    fc.assert(
      fc.property(
        fc.array(fc.tuple(literal, fc.constantFrom('content_block_delta', 'ping', 'error')), {
          minLength: 1,
          maxLength: 10,
        }),
        (events) => {
          const frames = events.map(([lit, name]) => ({ event: name, id: '', data: pre + lit + '}}' }));
          const expected = frames.map((f) => {
            try {
              if (f.event === 'ping') return [];
              const out: DeltaObject[] = [];
              anthropicEvent('anthropic', JSON.parse(f.data), f.event, out, new AnthropicState());
              return out;
            } catch {
              return 'error' as const;
            }
          });
          assert.deepEqual(throughNormalizer('anthropic', frames), expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('learns only from a literal, unique key followed by the value the full parse produced', () => {
    const cache = new ShapeCache('"content":');
    const f = (data: string): Frame => ({ event: 'message', id: '', data });
    cache.learn(f('{"a":{"content":"x"},"b":{"content":"x"}}'), 'x'); // key twice
    assert.equal(cache.match(f('{"a":{"content":"y"},"b":{"content":"x"}}')), undefined);
    cache.learn(f('{"k\\u0031":1,"content":"x"}'), 'x'); // escape in the envelope
    assert.equal(cache.match(f('{"k\\u0031":1,"content":"y"}')), undefined);
    cache.learn(f('{"content":"x"}'), 'other'); // value does not match
    assert.equal(cache.match(f('{"content":"y"}')), undefined);
    cache.learn(f('{"content":"x"}'), 'x');
    assert.equal(cache.match(f('{"content":"y\\n"}')), 'y\n');
    assert.equal(cache.match({ event: 'error', id: '', data: '{"content":"y"}' }), undefined); // other event name
  });

  test('a padding field may change every event; its value must stay a plain string', () => {
    const cache = new ShapeCache('"content":', '"obfuscation":');
    const f = (data: string): Frame => ({ event: 'message', id: '', data });
    cache.learn(f('{"choices":[{"delta":{"content":"a"}}],"obfuscation":"q1"}'), 'a');
    assert.equal(cache.match(f('{"choices":[{"delta":{"content":"b"}}],"obfuscation":"zz9"}')), 'b');
    assert.equal(cache.match(f('{"choices":[{"delta":{"content":"c"}}],"obfuscation":"z\\"}')), undefined);
  });

  test('bedrock converse deltas with random padding: cached reads equal full parses', () => {
    const padValue = fc.string({ unit: fc.constantFrom('a', 'B', '9', '"', '\\'), maxLength: 8 });
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(literal, padValue, fc.constantFrom('contentBlockDelta', 'contentBlockDelta', 'messageStart')),
          { minLength: 1, maxLength: 10 },
        ),
        (events) => {
          const frames = events.map(([lit, p, name]) => ({
            event: name,
            id: '',
            data: `{"contentBlockIndex":0,"delta":{"text":${lit}},"p":${JSON.stringify(p)}}`,
          }));
          const expected = frames.map((f) => {
            try {
              const json = JSON.parse(f.data);
              if (f.event === 'messageStart') return [{ role: 'assistant' }];
              if (f.event !== 'contentBlockDelta' || typeof json.delta?.text !== 'string' || json.delta.text === '')
                return [];
              return [{ delta: json.delta.text }];
            } catch {
              return 'error' as const;
            }
          });
          assert.deepEqual(throughNormalizer('amazonbedrock', frames), expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('cohere v1 text-generation lines: cached reads equal full parses', () => {
    fc.assert(
      fc.property(fc.array(literal, { minLength: 1, maxLength: 10 }), (lits) => {
        const frames = lits.map((lit) => ({
          event: 'message',
          id: '',
          data: `{"is_finished":false,"event_type":"text-generation","text":${lit}}`,
        }));
        const expected = frames.map((f) => {
          try {
            const json = JSON.parse(f.data);
            // a text-generation event whose text is not a string is an error, as in Elasticsearch
            if (typeof json.text !== 'string') return 'error' as const;
            return json.text !== '' ? [{ delta: json.text }] : [];
          } catch {
            return 'error' as const;
          }
        });
        assert.deepEqual(throughNormalizer('cohere', frames), expected);
      }),
      { numRuns: 1000 },
    );
  });

  test('a stream whose envelope changes every event stops trying', () => {
    const cache = new ShapeCache('"content":');
    let learned = 0;
    for (let i = 0; i < 50; i++) {
      const frame: Frame = { event: 'message', id: '', data: `{"content":"t","created":${i}}` };
      if (cache.match(frame) !== undefined) learned++;
      cache.learn(frame, 't');
    }
    assert.equal(learned, 0);
  });
});
