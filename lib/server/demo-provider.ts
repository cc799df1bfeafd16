import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoProviderOptions {
  /** Tokens per second. Default 40, about what a hosted model streams. */
  tokensPerSecond?: number;
}

export interface DemoProvider {
  /** The chat-completions URL to register as an `openai` endpoint's `url`. */
  url: string;
  close(): Promise<void>;
}

const MODEL = 'demo-1';

/** The answer: a few sentences about the input, in word-sized tokens. */
function answerTokens(input: string): string[] {
  const quoted = input.length > 80 ? input.slice(0, 77) + '...' : input;
  const text =
    `You said "${quoted}". This answer comes from the simulated provider built into inference-stream: ` +
    'it speaks OpenAI\'s streaming chat-completions format, and the server turns every chunk into ' +
    'Elasticsearch\'s completion events as soon as it arrives. Register a real provider with ' +
    'PUT /_inference/completion/<id> and stream from it the same way.';
  return text.match(/\S+\s*/g) ?? [text];
}

function chunk(id: string, delta: object, finish: string | null): string {
  return `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: MODEL, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
}

/**
 * A local stand-in for OpenAI's `POST /v1/chat/completions` with `stream: true`: it answers
 * any prompt at a steady token rate, honours backpressure and stops when the caller leaves.
 */
export async function startDemoProvider(options: DemoProviderOptions = {}): Promise<DemoProvider> {
  const interval = 1000 / Math.max(0.1, options.tokensPerSecond ?? 40);
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      let input = '';
      try {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { messages?: { content?: unknown }[] };
        const last = body.messages?.[body.messages.length - 1]?.content;
        input = typeof last === 'string' ? last : '';
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}');
        return;
      }
      const id = `chatcmpl-demo-${Date.now().toString(36)}`;
      const tokens = answerTokens(input);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.write(chunk(id, { role: 'assistant', content: '' }, null));
      let i = 0;
      let timer: NodeJS.Timeout | null = null;
      const next = () => {
        timer = null;
        if (res.destroyed) return;
        if (i < tokens.length) {
          const writable = res.write(chunk(id, { content: tokens[i++] }, null));
          if (writable) timer = setTimeout(next, interval);
          else res.once('drain', () => (timer = setTimeout(next, interval)));
          return;
        }
        res.write(chunk(id, {}, 'stop'));
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: MODEL, choices: [], usage: { prompt_tokens: input.split(/\s+/).filter(Boolean).length, completion_tokens: tokens.length, total_tokens: input.split(/\s+/).filter(Boolean).length + tokens.length } })}\n\n`);
        res.end('data: [DONE]\n\n');
      };
      res.on('close', () => {
        if (timer) clearTimeout(timer);
      });
      timer = setTimeout(next, interval);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
