/**
 * `chat_completion` next to `completion`: chatCompletionStream and completionStream over the
 * same generated OpenAI body (one event per read, and 16 KiB reads), interleaved, medians.
 * Both read every event; the chat stream writes one chunk per event, the completion stream
 * one `completion` array per read (batched while the consumer is behind).
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { chatCompletionStream, completionStream } from '../lib/index.js';
import { openAiSse, tokens } from './lib/data.js';
import { timeInterleaved } from './lib/timing.js';

export interface ChatBenchRow {
  reads: string;
  contender: string;
  mbps: number;
  spreadPct: number;
  outBytes: number;
}

function source(chunks: readonly Buffer[]): Readable {
  let i = 0;
  return new Readable({
    objectMode: true, // one read per given chunk, as a socket hands them over
    highWaterMark: 16,
    read() {
      while (i < chunks.length) if (!this.push(chunks[i++])) return;
      this.push(null);
    },
  });
}

async function drain(stream: NodeJS.ReadWriteStream, chunks: readonly Buffer[]): Promise<number> {
  let bytes = 0;
  await pipeline(
    source(chunks),
    stream,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb();
      },
    }),
  );
  return bytes;
}

export async function runChatBench(options: { quick: boolean }): Promise<ChatBenchRow[]> {
  const stream = openAiSse(tokens(options.quick ? 20_000 : 100_000));
  const whole = Buffer.concat(stream.events);
  const sixteen: Buffer[] = [];
  for (let i = 0; i < whole.length; i += 16 * 1024) sixteen.push(whole.subarray(i, i + 16 * 1024));
  const rows: ChatBenchRow[] = [];
  for (const [reads, chunks] of [
    ['one event per read', stream.events],
    ['16 KiB reads', sixteen],
  ] as const) {
    const out: Record<string, number> = {};
    const timed = await timeInterleaved(
      [
        {
          name: 'chatCompletionStream',
          ours: true,
          run: async () =>
            (out.chat = await drain(chatCompletionStream('openai', { contentType: stream.contentType }), chunks)),
        },
        {
          name: 'completionStream',
          ours: true,
          run: async () =>
            (out.completion = await drain(completionStream('openai', { contentType: stream.contentType }), chunks)),
        },
      ],
      options.quick ? 5 : 15,
      2,
    );
    for (const t of timed) {
      rows.push({
        reads,
        contender: t.name,
        mbps: stream.bytes / 1e6 / (t.ms.median / 1000),
        spreadPct: t.ms.spreadPct / 2,
        outBytes: t.name === 'chatCompletionStream' ? out.chat! : out.completion!,
      });
    }
  }
  return rows;
}
