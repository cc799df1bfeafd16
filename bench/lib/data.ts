import { EventStreamCodec } from '@smithy/core/event-streams';

/**
 * Generated provider streams, written from the documented wire shapes (shared/spec/providers.md),
 * every framing carrying the same sequence of answer texts so deltas/s compare across framings.
 * Each stream is a list of reads of "one event per read"; `payloads` is what the floor parses.
 */
export interface GeneratedStream {
  name: string;
  /** One Buffer per provider event. */
  events: Buffer[];
  /** The JSON text of every event's payload, pre-split (the floor's input). */
  payloads: string[];
  bytes: number;
  /** Answer text deltas a correct pipeline yields. */
  deltas: number;
  contentType: string;
}

/** Deterministic PRNG (mulberry32), so every run measures the same bytes. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  ' the',
  ' stream',
  ' of',
  ' tokens',
  ',',
  ' and',
  ' Elasticsearch',
  ' returns',
  ' a',
  ' completion',
  '.',
  '\n\n',
  ' "quoted"',
  ' café',
  ' naïve',
  ' 東京',
  ' 🙂',
  ' inference',
  ' model',
  ' JSON',
  ' delta',
  ' with',
  ' back\\slash',
  ' tab\t',
  ' is',
  ' to',
  ' in',
  ' that',
  ' it',
  ' for',
  ' on',
  ' are',
  ' as',
  ' be',
  ' this',
  ' fast',
  '-',
  'ing',
  'ed',
  ' response',
];

/** `n` token-sized answer texts (1 to ~14 characters, some needing JSON escapes, some non-ASCII). */
export function tokens(n: number, seed = 42): string[] {
  const r = rng(seed);
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = WORDS[Math.floor(r() * WORDS.length)]!;
  return out;
}

function pad(r: () => number, len: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = 0; i < len; i++) s += chars[Math.floor(r() * chars.length)];
  return s;
}

function finish(
  name: string,
  contentType: string,
  events: Buffer[],
  payloads: string[],
  deltas: number,
): GeneratedStream {
  let bytes = 0;
  for (const e of events) bytes += e.length;
  return { name, events, payloads, bytes, deltas, contentType };
}

/**
 * OpenAI chat completions: data-only SSE, a role chunk, content chunks, finish, usage, `[DONE]`.
 * api.openai.com adds a random `obfuscation` string to every chunk (on by default); most
 * OpenAI-compatible servers (vLLM, DeepSeek, Mistral, Ollama's /v1) send no such field.
 */
export function openAiSse(
  texts: readonly string[],
  obfuscation: boolean | 'varying' = true,
  seed = 1,
  id = 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
): GeneratedStream {
  const r = rng(seed);
  const events: Buffer[] = [];
  const payloads: string[] = [];
  const head =
    '{"id":"' +
    id +
    '","object":"chat.completion.chunk","created":' +
    (1741570283 + seed) +
    ',"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":';
  const add = (json: string) => {
    payloads.push(json);
    events.push(Buffer.from('data: ' + json + '\n\n'));
  };
  // 'varying': about half the chunks carry the field, so the envelope changes from chunk to chunk.
  const obf = (len: number) =>
    obfuscation === true || (obfuscation === 'varying' && r() < 0.5) ? ',"obfuscation":"' + pad(r, len) + '"' : '';
  add(
    head +
      '{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null' +
      obf(8) +
      '}',
  );
  for (const t of texts) {
    add(
      head +
        '{"content":' +
        JSON.stringify(t) +
        '},"logprobs":null,"finish_reason":null}],"usage":null' +
        obf(1 + Math.floor(r() * 12)) +
        '}',
    );
  }
  add(head + '{},"logprobs":null,"finish_reason":"stop"}],"usage":null' + obf(4) + '}');
  add(
    head.slice(0, head.indexOf('"choices":[')) +
      '"choices":[],"usage":{"prompt_tokens":19,"completion_tokens":' +
      texts.length +
      ',"total_tokens":' +
      (texts.length + 19) +
      '}' +
      obf(6) +
      '}',
  );
  events.push(Buffer.from('data: [DONE]\n\n'));
  const name =
    obfuscation === 'varying'
      ? 'OpenAI SSE, envelope varying (obfuscation on about half the chunks)'
      : obfuscation
        ? 'OpenAI SSE (api.openai.com, with obfuscation)'
        : 'OpenAI-compatible SSE (no obfuscation field)';
  return finish(name, 'text/event-stream; charset=utf-8', events, payloads, texts.length);
}

/** Anthropic Messages: named events, message_start … content_block_delta … message_stop, with pings. */
export function anthropicSse(texts: readonly string[]): GeneratedStream {
  const events: Buffer[] = [];
  const payloads: string[] = [];
  const add = (name: string, json: string) => {
    payloads.push(json);
    events.push(Buffer.from('event: ' + name + '\ndata: ' + json + '\n\n'));
  };
  add(
    'message_start',
    '{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}',
  );
  add('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}');
  for (let i = 0; i < texts.length; i++) {
    if (i % 500 === 1) add('ping', '{"type": "ping"}');
    add(
      'content_block_delta',
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":' + JSON.stringify(texts[i]) + '}}',
    );
  }
  add('content_block_stop', '{"type":"content_block_stop","index":0}');
  add(
    'message_delta',
    '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":' +
      texts.length +
      '}}',
  );
  add('message_stop', '{"type":"message_stop"}');
  return finish('Anthropic SSE', 'text/event-stream; charset=utf-8', events, payloads, texts.length);
}

/** Cohere v1 chat: NDJSON lines with `event_type`, stream-start … text-generation … stream-end. */
export function cohereNdjson(texts: readonly string[]): GeneratedStream {
  const events: Buffer[] = [];
  const payloads: string[] = [];
  const add = (json: string) => {
    payloads.push(json);
    events.push(Buffer.from(json + '\n'));
  };
  add('{"is_finished":false,"event_type":"stream-start","generation_id":"77d7d2d4-5c6e-4d87-9b4a-7f7a2b1a4c11"}');
  for (const t of texts) add('{"is_finished":false,"event_type":"text-generation","text":' + JSON.stringify(t) + '}');
  add(
    '{"is_finished":true,"event_type":"stream-end","response":{"response_id":"3c6f9f6e","text":"(whole answer omitted)","generation_id":"77d7d2d4-5c6e-4d87-9b4a-7f7a2b1a4c11","chat_history":[],"finish_reason":"COMPLETE","meta":{"api_version":{"version":"1"},"billed_units":{"input_tokens":3,"output_tokens":' +
      texts.length +
      '}}},"finish_reason":"COMPLETE"}',
  );
  return finish('NDJSON (Cohere v1)', 'application/stream+json', events, payloads, texts.length);
}

/** Ollama /api/chat: NDJSON, `message.content`, a last line with `"done":true`. */
export function ollamaNdjson(texts: readonly string[]): GeneratedStream {
  const events: Buffer[] = [];
  const payloads: string[] = [];
  const add = (json: string) => {
    payloads.push(json);
    events.push(Buffer.from(json + '\n'));
  };
  for (const t of texts)
    add(
      '{"model":"llama3.2","created_at":"2024-07-18T19:22:45.499127Z","message":{"role":"assistant","content":' +
        JSON.stringify(t) +
        '},"done":false}',
    );
  add(
    '{"model":"llama3.2","created_at":"2024-07-18T19:22:45.499127Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":' +
      texts.length +
      ',"eval_duration":4535599000}',
  );
  return finish('NDJSON (Ollama)', 'application/x-ndjson', events, payloads, texts.length);
}

/** Gemini streamGenerateContent without alt=sse: a streamed, pretty-printed JSON array. */
export function geminiJsonArray(texts: readonly string[]): GeneratedStream {
  const events: Buffer[] = [];
  const payloads: string[] = [];
  for (let i = 0; i < texts.length; i++) {
    const last = i === texts.length - 1;
    const value = {
      candidates: [
        {
          content: { parts: [{ text: texts[i] }], role: 'model' },
          ...(last ? { finishReason: 'STOP' } : {}),
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 9, candidatesTokenCount: i + 1, totalTokenCount: i + 10 },
      modelVersion: 'gemini-2.0-flash',
      responseId: 'mEJwaPq9Kt2ZkdUPw8rb4QY',
    };
    const json = JSON.stringify(value, null, 2).replace(/\n/g, '\r\n');
    payloads.push(json);
    events.push(Buffer.from((i === 0 ? '[' : ',\r\n') + json + (last ? ']' : '')));
  }
  return finish('JSON array (Gemini)', 'application/json; charset=UTF-8', events, payloads, texts.length);
}

const codec = new EventStreamCodec(
  (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text: string) => Buffer.from(text, 'utf8'),
);

/** One AWS event-stream frame as Bedrock writes it (`:message-type event`, JSON payload). */
export function awsFrame(eventType: string, json: string): Buffer {
  const bytes = codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: Buffer.from(json),
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bedrock ConverseStream: binary frames, messageStart … contentBlockDelta … messageStop, metadata. */
export function bedrockEventStream(texts: readonly string[]): GeneratedStream {
  const r = rng(7);
  const events: Buffer[] = [];
  const payloads: string[] = [];
  const add = (type: string, json: string) => {
    payloads.push(json);
    events.push(awsFrame(type, json));
  };
  add('messageStart', '{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN","role":"assistant"}');
  for (const t of texts)
    add(
      'contentBlockDelta',
      '{"contentBlockIndex":0,"delta":{"text":' +
        JSON.stringify(t) +
        '},"p":"' +
        pad(r, 2 + Math.floor(r() * 20)) +
        '"}',
    );
  add('contentBlockStop', '{"contentBlockIndex":0,"p":"abcdefghijklmn"}');
  add('messageStop', '{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGH","stopReason":"end_turn"}');
  add(
    'metadata',
    '{"metrics":{"latencyMs":1342},"p":"abcdefghijklmnopqrstuvw","usage":{"inputTokens":12,"outputTokens":' +
      texts.length +
      ',"totalTokens":' +
      (texts.length + 12) +
      '}}',
  );
  return finish('AWS event stream (Bedrock)', 'application/vnd.amazon.eventstream', events, payloads, texts.length);
}

/** The same bytes cut into reads of `size` bytes (the last one shorter). */
export function rechunk(events: readonly Buffer[], size: number): Buffer[] {
  const all = Buffer.concat(events as Buffer[]);
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.subarray(i, Math.min(all.length, i + size)));
  return out;
}

/**
 * Many short OpenAI streams, as a proxy serves them: `streams` responses of `chunks` chunks,
 * each chunk 1 to 8 tokens, every stream its own id and creation time, and about half the
 * chunks padded with `obfuscation` (the envelope varies from chunk to chunk).
 */
export function manyOpenAiStreams(streams: number, chunks: number, seed = 11): GeneratedStream[] {
  const r = rng(seed);
  const words = tokens(streams * chunks * 8, seed + 1);
  let w = 0;
  const out: GeneratedStream[] = [];
  for (let s = 0; s < streams; s++) {
    const texts: string[] = new Array(chunks);
    for (let c = 0; c < chunks; c++) {
      const n = 1 + Math.floor(r() * 8);
      let t = '';
      for (let k = 0; k < n; k++) t += words[w++]!;
      texts[c] = t;
    }
    out.push(openAiSse(texts, 'varying', seed + s, 'chatcmpl-' + pad(r, 29)));
  }
  return out;
}
