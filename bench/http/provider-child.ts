/**
 * A simulated OpenAI provider for the HTTP load benchmark, in its own process: every POST
 * gets a chat-completions SSE stream of `--deltas` content chunks, the first at once and
 * the rest `--interval` ms apart (a model's token pace), each its own socket write.
 * Prints its URL on stdout. Loopback only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const deltas = Number(args.get('deltas') ?? 50);
const interval = Number(args.get('interval') ?? 10);

const head =
  'data: {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":';
const role = Buffer.from(
  head + '{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}\n\n',
);
const content = (i: number) =>
  Buffer.from(head + '{"content":" tok' + i + '"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n');
const end = Buffer.from(head + '{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\ndata: [DONE]\n\n');

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(role);
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (i === deltas) {
        res.end(end);
        return;
      }
      res.write(content(i++));
      setTimeout(next, interval);
    };
    next();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
