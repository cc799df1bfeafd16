// The real binary, as a user runs it (built into dist/ by `npm run build`, which `npm test` runs first).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/inference-stream.js', import.meta.url));

function run(
  args: string[],
  stdin: Buffer | string = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const anthropicBody =
  'event: message_start\ndata: {"type":"message_start","message":{"id":"m","content":[]}}\n\n' +
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi 👋"}}\n\n' +
  'event: message_stop\ndata: {"type":"message_stop"}\n\n';

describe('inference-stream CLI', () => {
  test('convert prints Elasticsearch SSE and exits 0', async () => {
    const r = await run(['convert', '--provider', 'anthropic'], anthropicBody);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'event: message\ndata: {"completion":[{"delta":"Hi 👋"}]}\n\nevent: message\ndata: [DONE]\n\n',
    );
  });

  test('convert exits 1 when the output ends in an error event', async () => {
    const r = await run(
      ['convert', '--provider', 'openai', '--status', '429', '--content-type', 'application/json'],
      '{"error":{"message":"Rate limit reached","type":"requests"}}',
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^event: error\ndata: \{"error":\{"root_cause":\[\{"type":"status_exception","reason":"Received a rate limit status code.*Rate limit reached.*"status":429\}\n\n$/,
    );
  });

  test('deltas prints one JSON object per line, and the error last with exit 1', async () => {
    const r = await run(
      ['deltas', '--provider', 'openai'],
      'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\ndata: {"choices":[{"index":0,"delta":{"content":" b"}}]}\n\n',
    );
    assert.equal(r.code, 1);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines.slice(0, 2), [{ delta: 'a' }, { delta: ' b' }]);
    assert.equal(lines[2].error.type, 'incomplete_stream');
    assert.equal(lines[2].error.status, 500);
    assert.equal(typeof lines[2].error.reason, 'string');
  });

  test('providers lists every id', async () => {
    const r = await run(['providers']);
    assert.equal(r.code, 0);
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[0]);
    assert.ok(ids.includes('openai') && ids.includes('anthropic'));
  });

  test('bad usage exits 2 with the usage on stderr and nothing on stdout', async () => {
    const argvs = [
      [],
      ['nope'],
      ['deltas'],
      ['deltas', '--provider'],
      ['deltas', '--provider', 'nope'],
      ['convert', '--provider', 'openai', '--status', 'abc'],
      ['convert', '--provider', 'openai', '--what'],
      ['providers', 'extra'],
      ['serve', '--port', 'x'],
    ];
    const results = await Promise.all(argvs.map((args) => run(args)));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, JSON.stringify(argvs[i]));
      // one style: "inference-stream: <message>", a blank line, the usage
      assert.match(r.stderr, /^inference-stream: \S[^\n]*\n\nusage: inference-stream /);
      assert.equal(r.stdout, '');
    });
  });
});

describe('inference-stream CLI: version, help, pipes, terminals, errors', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

  test('--version and -v print the package version', async () => {
    for (const r of await Promise.all([run(['--version']), run(['-v'])])) {
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${pkg.version}\n`);
      assert.equal(r.stderr, '');
    }
  });

  test('--help (also after a command) prints the usage on stdout and exits 0', async () => {
    const argvs = [['--help'], ['convert', '-h'], ['providers', '--help']];
    const results = await Promise.all(argvs.map((args) => run(args)));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, argvs[i]!.join(' '));
      assert.match(r.stdout, /^usage: inference-stream <command>/);
      assert.match(r.stdout, /--version/);
      assert.equal(r.stderr, '');
    });
  });

  test('other failures: one line "inference-stream: <message>" on stderr, exit 1, no usage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    try {
      // an endpoints "file" that is a directory cannot be read: the server does not start
      const r = await run(['serve', '--port', '0', '--endpoints', dir]);
      assert.equal(r.code, 1);
      // serve logs in JSON lines (one per event): the failure is one fatal line with the reason
      assert.match(r.stderr, /^[^\n]+\n$/);
      const line = JSON.parse(r.stderr) as { level: string; reason: string };
      assert.equal(line.level, 'fatal');
      assert.match(line.reason, /Cannot read endpoint file/);
      assert.doesNotMatch(r.stderr, /usage/);
      assert.equal(r.stdout, '');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('a decoding failure is reported in the output only: nothing on stderr', async () => {
    const r = await run(
      ['convert', '--provider', 'openai'],
      'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n',
    );
    assert.equal(r.code, 1);
    assert.match(r.stdout, /event: error\n/);
    assert.equal(r.stderr, '');
  });

  test('a reader that closes the pipe early (| head -1) ends every command quietly with status 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const body = join(dir, 'body.sse');
    // ~3.5 MB in, more out: far more than a pipe buffer, so the reader is gone while the command writes
    let text = '';
    for (let i = 0; i < 50_000; i++) text += `data: {"choices":[{"index":0,"delta":{"content":"token ${i} "}}]}\n\n`;
    writeFileSync(body, text + 'data: [DONE]\n\n');
    const cases = [
      `convert --provider openai < "$BODY"`,
      `deltas --provider openai < "$BODY"`,
      `convert --provider openai`, // stdin: the pipe this test writes the body into
      'providers',
    ];
    try {
      const results = await Promise.all(
        cases.map(
          (args) =>
            new Promise<{ args: string; stdout: string; stderr: string }>((resolve, reject) => {
              const script = `"$NODE" "$BIN" ${args} | head -1 > /dev/null; echo "status=\${PIPESTATUS[0]}"`;
              const child = spawn('bash', ['-c', script], {
                env: { ...process.env, NODE: process.execPath, BIN: bin, BODY: body },
                stdio: ['pipe', 'pipe', 'pipe'],
              });
              let stdout = '';
              let stderr = '';
              child.stdout.on('data', (b) => (stdout += b));
              child.stderr.on('data', (b) => (stderr += b));
              child.on('error', reject);
              child.on('close', () => resolve({ args, stdout, stderr }));
              child.stdin.on('error', () => {}); // the command may be gone before it took all of it
              child.stdin.end(text);
            }),
        ),
      );
      for (const r of results) assert.deepEqual(r, { args: r.args, stdout: 'status=0\n', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  test(
    'deltas and convert reading from a terminal say on stderr what they expect',
    { skip: hasScript ? false : 'util-linux `script` (a pseudo-terminal) is not installed' },
    async () => {
      await Promise.all(
        ['convert', 'deltas'].map(async (command) => {
          // `script` runs the command on a pseudo-terminal: stdin is a TTY, as when a person types
          const child = spawn(
            'script',
            ['-qec', `"${process.execPath}" "${bin}" ${command} --provider openai`, '/dev/null'],
            {
              stdio: ['pipe', 'pipe', 'pipe'],
            },
          );
          let screen = '';
          const hinted = new Promise<void>((resolve) => {
            child.stdout.on('data', (b) => {
              screen += b;
              if (screen.includes('on standard input')) resolve();
            });
          });
          const exited = once(child, 'close');
          await hinted;
          // the hint comes before any input; then a body and Ctrl-D end the command normally
          child.stdin.write('data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n');
          child.stdin.write('\x04');
          const [code] = await exited;
          assert.equal(code, 0, screen);
          assert.match(
            screen,
            new RegExp(
              `inference-stream: reading a response body from the openai provider on standard input \\(end it with Ctrl-D\\); pipe one in: curl -sN \\.\\.\\. \\| npx inference-stream ${command} --provider openai`,
            ),
          );
          assert.match(
            screen,
            command === 'convert' ? /data: \{"completion":\[\{"delta":"hi"\}\]\}/ : /\{"delta":"hi"\}/,
          );
        }),
      );
    },
  );

  test('piped input gets no terminal hint', async () => {
    const r = await run(['convert', '--provider', 'anthropic'], anthropicBody);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
  });
});
