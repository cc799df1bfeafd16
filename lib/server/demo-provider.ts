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
    "it speaks OpenAI's streaming chat-completions format, and the server turns every chunk into " +
    "Elasticsearch's completion events as soon as it arrives. Register a real provider with " +
    'PUT /_inference/completion/<id> and stream from it the same way.';
  return text.match(/\S+\s*/g) ?? [text];
}

interface DemoRequest {
  messages?: { role?: string; content?: unknown }[];
  tools?: { type?: string; function?: { name?: unknown; parameters?: unknown } }[];
  tool_choice?: unknown;
}

/** A message's text: a string, or text parts joined. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

/**
 * The call the simulated model makes when the request offers tools: the named one under a
 * named tool_choice, else the first; none under `tool_choice: "none"`. Arguments fill the
 * schema's required properties (strings with the user's words, numbers 1, booleans true).
 */
function toolCall(body: DemoRequest, input: string): { name: string; args: string } | null {
  const tools = Array.isArray(body.tools) ? body.tools.filter((t) => typeof t?.function?.name === 'string') : [];
  if (tools.length === 0 || body.tool_choice === 'none') return null;
  const choice = body.tool_choice as { function?: { name?: unknown } } | undefined;
  const named =
    typeof choice === 'object' && choice !== null
      ? tools.find((t) => t.function!.name === choice.function?.name)
      : undefined;
  const tool = named ?? tools[0]!;
  const schema = (tool.function!.parameters ?? {}) as {
    properties?: Record<string, { type?: unknown }>;
    required?: unknown;
  };
  const args: Record<string, unknown> = {};
  const required = Array.isArray(schema.required)
    ? (schema.required as unknown[])
    : Object.keys(schema.properties ?? {});
  for (const key of required) {
    if (typeof key !== 'string') continue;
    const type = schema.properties?.[key]?.type;
    args[key] =
      type === 'number' || type === 'integer'
        ? 1
        : type === 'boolean'
          ? true
          : type === 'array'
            ? []
            : type === 'object'
              ? {}
              : input.slice(0, 60);
  }
  return { name: tool.function!.name as string, args: JSON.stringify(args) };
}

/** JSON arguments in pieces of a few characters, as a model streams them. */
function argumentPieces(args: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < args.length; i += 6) pieces.push(args.slice(i, i + 6));
  return pieces;
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
      let call: { name: string; args: string } | null = null;
      try {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as DemoRequest;
        const last = body.messages?.[body.messages.length - 1];
        input = textOf(last?.content);
        // a request with tools gets a call of one of them, unless it is answering a call already
        if (last?.role !== 'tool') call = toolCall(body, input);
        else input = `the tool answered: ${input}`;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          '{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}',
        );
        return;
      }
      const id = `chatcmpl-demo-${Date.now().toString(36)}`;
      const tokens = call === null ? answerTokens(input) : argumentPieces(call.args);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.write(chunk(id, { role: 'assistant', content: call === null ? '' : null }, null));
      if (call !== null) {
        res.write(
          chunk(
            id,
            {
              tool_calls: [
                {
                  index: 0,
                  id: `call_demo_${Date.now().toString(36)}`,
                  type: 'function',
                  function: { name: call.name, arguments: '' },
                },
              ],
            },
            null,
          ),
        );
      }
      let i = 0;
      let timer: NodeJS.Timeout | null = null;
      const next = () => {
        timer = null;
        if (res.destroyed) return;
        if (i < tokens.length) {
          const piece = tokens[i++]!;
          const delta =
            call === null ? { content: piece } : { tool_calls: [{ index: 0, function: { arguments: piece } }] };
          const writable = res.write(chunk(id, delta, null));
          if (writable) timer = setTimeout(next, interval);
          else res.once('drain', () => (timer = setTimeout(next, interval)));
          return;
        }
        res.write(chunk(id, {}, call === null ? 'stop' : 'tool_calls'));
        res.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: MODEL, choices: [], usage: { prompt_tokens: input.split(/\s+/).filter(Boolean).length, completion_tokens: tokens.length, total_tokens: input.split(/\s+/).filter(Boolean).length + tokens.length } })}\n\n`,
        );
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
