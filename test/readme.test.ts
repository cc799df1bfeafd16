// Every code block of README.md, executed in document order, so that none can rot.
//
// How a block is run is told by its info string (only its first word is shown on the page):
//   ```ts            compiled to JavaScript (TypeScript's transpileModule), written next to package.json and
//                    run with node; `inference-stream` resolves to this package (its built dist/, as a user
//                    gets it). Must exit 0.
//   ```ts proxy      the first-screen example: a server in front of a provider (checked below).
//   ```ts server     the handler example: a server with the _inference API (checked below).
//   ```sh            run with `bash -eo pipefail` from the repository root. Must exit 0. `npx inference-stream`
//                    runs bin/inference-stream.js directly (npm's own start-up is slow); test/soak/npx.soak.ts
//                    runs the real npx once, offline, to show that it finds this package's command.
//   ```sh status=N   the same, and the block must exit with status N.
//   ```sh background a server: started with PORT=0, it must print `listening on URL`; later blocks reach it.
//   ```sh skip       not run: only `npm install inference-stream` (the package is installed here already).
//   ```text          the expected output of the block before it; `…` stands for any text (any lines).
//   ```json api-keys a keys file: the real server is started with it and must answer 401 / 200 / 403.
// A block without an expected output must not print an error (`"error":`).
//
// Addresses the README shows are mapped to local servers on free ports:
//   localhost:9200             -> the server started by the `sh background` block
//   localhost:11434            -> a simulated Ollama (NDJSON)
//   https://api.openai.com/v1  -> a simulated OpenAI (SSE); $OPENAI_BASE_URL is set to it as well
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { request } from 'undici';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = join(root, 'bin/inference-stream.js');
const OPENAI_KEY = 'sk-readme-test-key';
const APP_KEY = 'my-app-key-0123456789'; // the key the README hashes for its keys file

interface Block {
  lang: string;
  directive: string;
  code: string;
  line: number;
  expected?: string;
}

/** The fenced blocks of a Markdown text; a `text` block is attached as the expected output of the block before it. */
function readBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    assert.ok(end < lines.length, `README line ${start}: unclosed code block`);
    const block: Block = {
      lang: open[1]!,
      directive: open[2]!.trim(),
      code: lines.slice(start, end).join('\n'),
      line: start,
    };
    if (block.lang === 'text') {
      const before = blocks.at(-1);
      assert.ok(
        before && before.expected === undefined,
        `README line ${start}: a text block must follow the block whose output it shows`,
      );
      before.expected = block.code;
    } else {
      blocks.push(block);
    }
    i = end;
  }
  return blocks;
}

/** `expected` with `…` as a wildcard, matched against the whole output (trailing blank space ignored). */
function assertOutput(actual: string, expected: string, where: string): void {
  const pattern = expected
    .trimEnd()
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*?');
  assert.match(actual.trimEnd(), new RegExp(`^${pattern}$`), `${where}: the output differs from the README`);
}

// --- simulated providers ---------------------------------------------------------------------

interface Fake {
  server: Server;
  url: string;
  requests: { path: string; headers: IncomingMessage['headers']; body: string }[];
  /** 'answer': a whole stream; 'hang': one chunk, then nothing; 'silent': not even headers. */
  mode: 'answer' | 'hang' | 'silent';
  /** Resolves when a request of the current 'hang' is closed by the client. */
  closed: Promise<void>;
}

async function startFake(write: (res: ServerResponse, fake: Fake) => void): Promise<Fake> {
  let markClosed = () => {};
  const fake = { requests: [], mode: 'answer', closed: Promise.resolve() } as unknown as Fake;
  const arm = () => {
    fake.closed = new Promise<void>((resolve) => (markClosed = resolve));
  };
  arm();
  fake.server = createServer((req, res) => {
    if (fake.mode !== 'answer') res.on('close', () => markClosed());
    let body = '';
    req.on('data', (b) => (body += b));
    req.on('end', () => {
      fake.requests.push({ path: req.url ?? '', headers: req.headers, body });
      if (fake.mode === 'silent') return; // no headers, ever
      if (fake.mode === 'hang') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"index":0,"delta":{"content":"first"}}]}\n\n');
        return; // never ends by itself
      }
      write(res, fake);
    });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  Object.defineProperty(fake, 'rearm', { value: arm });
  return fake;
}

const OPENAI_TEXT = ['Hello', ' from', ' a simulated', ' provider'];
const openai = await startFake((res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const t of OPENAI_TEXT)
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: t } }] })}\n\n`);
  res.end('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
});
const ollama = await startFake((res) => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const t of ['Bytes ', 'flow ', 'downstream']) {
    res.write(
      JSON.stringify({
        model: 'llama3.2',
        created_at: new Date().toISOString(),
        message: { role: 'assistant', content: t },
        done: false,
      }) + '\n',
    );
  }
  res.end(
    JSON.stringify({
      model: 'llama3.2',
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
    }) + '\n',
  );
});

// --- running blocks ----------------------------------------------------------------------------

const work = mkdtempSync(join(root, '.readme-'));
const children: ChildProcess[] = [];
let serverUrl: string | null = null; // the `sh background` server

function mapAddresses(code: string): string {
  let out = code
    .replaceAll('https://api.openai.com/v1', `${openai.url}/v1`)
    .replaceAll('localhost:11434', ollama.url.slice('http://'.length));
  if (code.includes('localhost:9200')) {
    assert.ok(serverUrl, 'a block reaches localhost:9200 before the README started a server');
    out = out.replaceAll('localhost:9200', serverUrl.slice('http://'.length));
  }
  return out;
}

// `npx inference-stream …` without npm's start-up: a shim first on PATH (any other npx command goes to the real one)
const shims = join(work, 'bin');
mkdirSync(shims);
writeFileSync(
  join(shims, 'npx'),
  `#!/usr/bin/env bash\nif [ "$1" = inference-stream ]; then shift; exec "${process.execPath}" "${bin}" "$@"; fi\n` +
    `PATH="\${PATH#*:}" exec npx "$@"\n`,
  { mode: 0o755 },
);

const env = {
  ...process.env,
  PATH: `${shims}:${process.env.PATH}`,
  PORT: '0',
  OPENAI_API_KEY: OPENAI_KEY,
  OPENAI_BASE_URL: `${openai.url}/v1`,
  INFERENCE_STREAM_DEMO_TPS: '2000',
  npm_config_offline: 'true',
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
};

function startProcess(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  // its own process group, so that everything it starts (npx, node) is stopped with it
  const child = spawn(command, args, {
    cwd,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exited.then(([code]) => reject(new Error(`exited with ${code} before listening: ${stderr}`)));
  });
  listening.catch(() => {}); // awaited only by server blocks
  return { child, exited, listening, out: () => stdout, err: () => stderr };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

function writeBlock(block: Block): string {
  const file = join(work, `line-${block.line}.mjs`);
  const js = ts.transpileModule(mapAddresses(block.code), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  assert.deepEqual(js.diagnostics ?? [], [], `README line ${block.line}: the TypeScript does not parse`);
  writeFileSync(file, js.outputText);
  return file;
}

async function runToEnd(command: string, args: string[], cwd: string, block: Block, status = 0): Promise<string> {
  const p = startProcess(command, args, cwd);
  const [code] = await p.exited;
  const where = `README line ${block.line}`;
  assert.equal(code, status, `${where} exited with ${code}: ${p.err()}`);
  if (block.expected !== undefined) assertOutput(p.out(), block.expected, where);
  else assert.doesNotMatch(p.out(), /"error":/, `${where} printed an error: ${p.out()}`);
  return p.out();
}

async function get(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** The text of Elasticsearch `completion` events, and whether the stream ended with [DONE]. */
function answerOf(sse: string): { text: string; done: boolean } {
  let text = '';
  let done = false;
  for (const event of sse.split('\n\n')) {
    const data = /^data: (.*)$/m.exec(event)?.[1];
    if (data === undefined) continue;
    if (data === '[DONE]') done = true;
    else for (const d of (JSON.parse(data) as { completion: { delta: string }[] }).completion) text += d.delta;
  }
  return { text, done };
}

// --- the checks of the server examples ---------------------------------------------------------

/** Waits for the fake's current request to be closed by its client; fails after 10 s. */
async function closedWithin(fake: Fake, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the provider request was still open 10 s later`)), 10_000);
  });
  try {
    await Promise.race([fake.closed, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first-screen example: a proxy to OpenAI that aborts the provider request when its client leaves. */
async function checkProxy(block: Block): Promise<void> {
  const file = writeBlock(block);
  const run = startProcess(process.execPath, [file], work);
  const url = await run.listening;

  // an answer: Elasticsearch's events carrying the provider's text, then [DONE]
  const res = await get(url);
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /text\/event-stream/);
  assert.deepEqual(answerOf(res.text), { text: OPENAI_TEXT.join(''), done: true });
  const sent = openai.requests.at(-1)!;
  assert.equal(sent.path, '/v1/chat/completions');
  assert.equal(sent.headers.authorization, `Bearer ${OPENAI_KEY}`);

  // the client leaves mid-stream: the provider request is closed, not read to its end
  openai.mode = 'hang';
  (openai as unknown as { rearm(): void }).rearm();
  const leaving = await request(url);
  for await (const chunk of leaving.body) {
    assert.match(String(chunk), /first/);
    break; // one event read, then gone (breaking out of the loop destroys the response)
  }
  await closedWithin(openai, 'the client left mid-stream');

  // the client leaves before the provider has answered at all: the provider request is aborted too
  openai.mode = 'silent';
  (openai as unknown as { rearm(): void }).rearm();
  const early = new AbortController();
  const waiting = request(url, { signal: early.signal }).catch(() => 'aborted');
  await once(openai.server, 'request');
  early.abort();
  assert.equal(await waiting, 'aborted');
  await closedWithin(openai, 'the client left before the provider answered');
  openai.mode = 'answer';
  assert.deepEqual(answerOf((await get(url)).text), { text: OPENAI_TEXT.join(''), done: true }, 'still serving');
  await stopProcess(run.child);

  // an unreachable provider: a 502 for the client, and the process keeps serving
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/v1`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const down = startProcess(process.execPath, [file], work, { OPENAI_BASE_URL: deadUrl });
  const downUrl = await down.listening;
  for (let i = 0; i < 2; i++) {
    const r = await get(downUrl);
    assert.equal(r.status, 502);
    assert.match(r.text, /^provider unreachable: /);
  }
  assert.equal(down.child.exitCode, null, 'the process is still running');
  assert.doesNotMatch(down.err(), /Unhandled|ECONNREFUSED/);
  await stopProcess(down.child);
}

/** The handler example: endpoints kept in ./endpoints.json (mode 0600), streamed through the handler. */
async function checkHandlerServer(block: Block): Promise<void> {
  const file = writeBlock(block);
  const run = startProcess(process.execPath, [file], work);
  const url = await run.listening;
  const json = { 'content-type': 'application/json' };
  const put = await get(`${url}/_inference/completion/haiku`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ service: 'ollama', service_settings: { model_id: 'llama3.2', url: ollama.url } }),
  });
  assert.equal(put.status, 200, put.text);
  assert.equal((statSync(join(work, 'endpoints.json')).mode & 0o777).toString(8), '600');
  const listed = JSON.parse((await get(`${url}/_inference/_all`)).text) as { endpoints: { inference_id: string }[] };
  assert.deepEqual(
    listed.endpoints.map((e) => e.inference_id),
    ['haiku'],
  );
  const streamed = await get(`${url}/_inference/completion/haiku/_stream`, {
    method: 'POST',
    headers: json,
    body: '{"input":"hi"}',
  });
  assert.deepEqual(answerOf(streamed.text), { text: 'Bytes flow downstream', done: true });
  const missing = await get(`${url}/_inference/completion/nope/_stream`, {
    method: 'POST',
    headers: json,
    body: '{"input":"hi"}',
  });
  assert.match(missing.text, /^event: error\ndata: .*"status":404\}/);
  assert.match(run.err(), /nope 404 resource_not_found_exception/, 'onError logged the failure');
  await stopProcess(run.child);
}

/** The keys file: the real server started with it; no key 401, the key streams, its missing privilege 403. */
async function checkApiKeys(block: Block): Promise<void> {
  const file = join(work, 'keys.json');
  writeFileSync(file, block.code, { mode: 0o600 });
  const run = startProcess(process.execPath, [bin, 'serve', '--api-keys', file], work);
  const url = await run.listening;
  const json = { 'content-type': 'application/json' };
  const body = '{"input":"hello"}';
  const anonymous = await get(`${url}/_inference/completion/demo/_stream`, { method: 'POST', headers: json, body });
  assert.equal(anonymous.status, 401);
  const keyed = await get(`${url}/_inference/completion/demo/_stream`, {
    method: 'POST',
    headers: { ...json, authorization: `ApiKey ${APP_KEY}` },
    body,
  });
  assert.equal(keyed.status, 200);
  assert.equal(answerOf(keyed.text).done, true);
  const manage = await get(`${url}/_inference/completion/x`, {
    method: 'PUT',
    headers: { ...json, authorization: `Bearer ${APP_KEY}` },
    body: JSON.stringify({ service: 'ollama', service_settings: { model_id: 'm' } }),
  });
  assert.equal(manage.status, 403);
  await stopProcess(run.child);
  assert.equal(run.child.exitCode, 0);
}

// --- the suite ---------------------------------------------------------------------------------

const blocks = readBlocks(readFileSync(join(root, 'README.md'), 'utf8'));

describe('README code blocks', { timeout: 120_000 }, () => {
  after(async () => {
    for (const child of children) await stopProcess(child);
    await new Promise<void>((resolve) => openai.server.close(() => resolve()));
    await new Promise<void>((resolve) => ollama.server.close(() => resolve()));
    rmSync(work, { recursive: true, force: true });
  });

  test('the README has blocks, and every one has a known kind', () => {
    assert.ok(blocks.length >= 10, `only ${blocks.length} blocks found`);
    const known = /^(ts|ts proxy|ts server|sh|sh background|sh skip|sh status=\d+|json api-keys)$/;
    for (const b of blocks)
      assert.match(
        `${b.lang} ${b.directive}`.trim(),
        known,
        `README line ${b.line}: unknown block kind ${JSON.stringify(`${b.lang} ${b.directive}`)}`,
      );
    // the only block not run is the install line
    assert.deepEqual(
      blocks.filter((b) => b.directive === 'skip').map((b) => b.code),
      ['npm install inference-stream'],
    );
  });

  for (const block of blocks) {
    const kind = `${block.lang} ${block.directive}`.trim();
    test(`line ${block.line}: ${kind}: ${block.code
      .split('\n')
      .find((l) => l.trim() && !l.startsWith('import'))
      ?.slice(0, 60)}`, async () => {
      switch (kind) {
        case 'sh skip':
          return;
        case 'sh background': {
          const p = startProcess('bash', ['-eo', 'pipefail', '-c', mapAddresses(block.code)], root);
          serverUrl = await p.listening;
          assert.match(serverUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
          return;
        }
        case 'sh':
          await runToEnd('bash', ['-eo', 'pipefail', '-c', mapAddresses(block.code)], root, block);
          return;
        case 'ts':
          await runToEnd(process.execPath, [writeBlock(block)], work, block);
          return;
        case 'ts proxy':
          await checkProxy(block);
          return;
        case 'ts server':
          await checkHandlerServer(block);
          return;
        case 'json api-keys':
          await checkApiKeys(block);
          return;
        default: {
          const status = /^sh status=(\d+)$/.exec(kind);
          if (status) {
            await runToEnd('bash', ['-eo', 'pipefail', '-c', mapAddresses(block.code)], root, block, Number(status[1]));
            return;
          }
          assert.fail(`README line ${block.line}: unknown block kind ${kind}`);
        }
      }
    });
  }
});
