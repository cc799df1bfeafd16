// Issue 13's findings, each against a real server on 127.0.0.1: credentials the client builds,
// redaction before any cut, url checks, nesting depth, provider redirects and encodings,
// the 429 of a full server, limits by name, connections, a slow request head.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib';
import { Agent } from 'undici';
import { startInferenceServer } from '../../lib/server/server.js';
import { main } from '../../lib/cli/main.js';
import { MemoryRegistry } from '../../lib/registry/memory.js';
import { Redactor, requestCredentials } from '../../lib/server/redact.js';
import { fakeProvider, handlerServer, http, readStream, settingsFor, testServiceAccount } from './helpers.js';

const OK = 'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n';

/** Every window of `n` characters of `secret`: none may show anywhere. */
function assertNoPiece(text: string, secret: string, n = 8): void {
  for (let i = 0; i + n <= secret.length; i++)
    assert.ok(!text.includes(secret.slice(i, i + n)), `leaked [${secret.slice(i, i + n)}] in ${text.slice(0, 300)}`);
}

describe('credentials the client builds are redacted (13.1)', () => {
  test('a Vertex AI OAuth token quoted back by the provider reaches neither the client nor onError', async () => {
    let seen = '';
    const provider = await fakeProvider((req, res) => {
      seen = String(req.headers.authorization);
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad credentials: ${seen}` } }));
    });
    const logged: string[] = [];
    const app = await handlerServer({ retry: { maxAttempts: 1 }, onError: (e) => logged.push(e.reason) });
    try {
      await http(app.url, 'PUT', '/_inference/completion/vx', {
        service: 'googlevertexai',
        service_settings: settingsFor('googlevertexai', provider.url),
      });
      for (const path of ['/_inference/completion/vx', '/_inference/completion/vx/_stream']) {
        const res = await http(app.url, 'POST', path, { input: 'hi' });
        assert.equal(res.status, 401, res.body);
        const token = seen.replace(/^Bearer /, '');
        assert.ok(token.length > 100, 'a signed token was sent');
        assertNoPiece(res.body, token);
        assert.match(res.body, /REDACTED/);
      }
      for (const line of logged) assertNoPiece(line, seen.replace(/^Bearer /, ''));
    } finally {
      await app.close();
      await provider.close();
    }
  });

  test('a SigV4 signature and access key quoted back are redacted', async () => {
    let auth = '';
    const provider = await fakeProvider((req, res) => {
      auth = String(req.headers.authorization);
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `The request signature we calculated does not match: ${auth}` }));
    });
    const app = await handlerServer({ retry: { maxAttempts: 1 } });
    try {
      await http(app.url, 'PUT', '/_inference/completion/br', {
        service: 'amazonbedrock',
        service_settings: settingsFor('amazonbedrock', provider.url),
      });
      const res = await http(app.url, 'POST', '/_inference/completion/br', { input: 'hi' });
      assert.equal(res.status, 403);
      const signature = /Signature=([0-9a-f]+)/.exec(auth)![1]!;
      assertNoPiece(res.body, signature);
      assert.ok(!res.body.includes('AKIDTEST'));
    } finally {
      await app.close();
      await provider.close();
    }
  });

  test('requestCredentials finds bearer tokens, API-key headers, signatures, userinfo and key parameters', () => {
    const found = requestCredentials({
      url: 'https://u:p4ss@example.com/x?key=qkey123&alt=sse',
      headers: {
        authorization: 'Bearer tok-123',
        'x-api-key': 'hdr-key',
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
    });
    for (const s of ['tok-123', 'Bearer tok-123', 'hdr-key', 'p4ss', 'qkey123']) assert.ok(found.includes(s), s);
    assert.ok(!found.includes('application/json') && !found.includes('2023-06-01'));
  });
});

describe('redaction comes before any cut, whatever the length (13.2)', () => {
  test('a key straddling the 120-character excerpt of a malformed event leaves no prefix', async () => {
    const key = 'sk-proj-PADLEAK-abcdefghijklmnop';
    const provider = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // the excerpt is cut at 120 characters, in the middle of the key
      res.end(`data: {"x":"${'p'.repeat(100)} Bearer ${key} tail"\n\n`);
    });
    const app = await handlerServer();
    try {
      await http(app.url, 'PUT', '/_inference/completion/o', {
        service: 'openai',
        service_settings: { api_key: key, model_id: 'm', url: provider.url },
      });
      const res = await http(app.url, 'POST', '/_inference/completion/o/_stream', { input: 'hi' });
      const got = readStream(res.body);
      assert.ok(got.error, res.body);
      assert.ok(!res.body.includes('sk-p'), res.body);
      assertNoPiece(res.body, key, 4);
    } finally {
      await app.close();
      await provider.close();
    }
  });

  test('secrets shorter than six characters are redacted too', () => {
    const r = new Redactor(['k3y']);
    assert.equal(r.text('the key k3y was refused'), 'the key [REDACTED] was refused');
    const cut = new Redactor(['sk-proj-PADLEAK-abcd']);
    assert.equal(cut.text('Bearer sk-proj-PADL…'), 'Bearer [REDACTED]…');
    assert.equal(cut.text('x Bearer sk-proj-PADLE'), 'x Bearer [REDACTED]');
  });
});

describe('url settings (13.8)', () => {
  test('only http and https are accepted at PUT', async () => {
    const app = await handlerServer();
    try {
      for (const url of [
        'file:///etc/passwd',
        'data:text/plain,hi',
        'javascript:alert(1)',
        'http+unix://%2Ftmp%2Fs/x',
        'ftp://h/x',
      ]) {
        const res = await http(app.url, 'PUT', '/_inference/completion/u', {
          service: 'openai',
          service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url },
        });
        assert.equal(res.status, 400, url);
        assert.match(JSON.parse(res.body).error.reason, /Invalid url scheme|Invalid url/, url);
      }
      assert.equal(JSON.parse((await http(app.url, 'GET', '/_inference')).body).endpoints.length, 0);
    } finally {
      await app.close();
    }
  });

  test('user:pass@ in url is never echoed, and is redacted from errors', async () => {
    const provider = await fakeProvider((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `denied for ${req.headers.authorization ?? ''} alice:s3cr3t-pw` } }));
    });
    const app = await handlerServer({ retry: { maxAttempts: 1 } });
    try {
      const url = provider.url.replace('http://', 'http://alice:s3cr3t-pw@');
      const put = await http(app.url, 'PUT', '/_inference/completion/u', {
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url },
      });
      assert.equal(put.status, 200, put.body);
      const get = await http(app.url, 'GET', '/_inference/u');
      for (const body of [put.body, get.body]) {
        assert.ok(!body.includes('s3cr3t-pw') && !body.includes('alice'), body);
        assert.match(body, /REDACTED:REDACTED@127\.0\.0\.1/);
      }
      const res = await http(app.url, 'POST', '/_inference/completion/u', { input: 'x' });
      assert.ok(!res.body.includes('s3cr3t-pw'), res.body);
    } finally {
      await app.close();
      await provider.close();
    }
  });

  test('allowHosts: PUT refuses other hosts; a stored endpoint for another host is not called', async () => {
    const provider = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(OK);
    });
    const registry = new MemoryRegistry();
    const port = new URL(provider.url).port;
    const app = await handlerServer({ registry, allowHosts: [`localhost:${port}`, '*.example.com'] });
    try {
      const refused = await http(app.url, 'PUT', '/_inference/completion/a', {
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
      });
      assert.equal(refused.status, 400);
      assert.match(refused.body, /not in this server's list of allowed provider hosts/);
      const allowed = await http(app.url, 'PUT', '/_inference/completion/b', {
        service: 'openai',
        service_settings: {
          api_key: 'sk-aaaaaaaa',
          model_id: 'm',
          url: provider.url.replace('127.0.0.1', 'localhost'),
        },
      });
      assert.equal(allowed.status, 200, allowed.body);
      await registry.put({
        inference_id: 'c',
        task_type: 'completion',
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
        task_settings: {},
      });
      const res = await http(app.url, 'POST', '/_inference/completion/c', { input: 'x' });
      assert.equal(res.status, 400);
      assert.equal(provider.requests.length, 0, 'no provider call');
      // no url: the provider's own host, not listed either
      const openai = await http(app.url, 'PUT', '/_inference/completion/d', {
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm' },
      });
      assert.equal(openai.status, 200);
      assert.equal((await http(app.url, 'POST', '/_inference/completion/d', { input: 'x' })).status, 400);
    } finally {
      await app.close();
      await provider.close();
    }
  });
});

describe('nesting depth (13.5)', () => {
  test('10,000 deep is a 400 with Elasticsearch words and stores nothing; 900 deep is fine', async () => {
    const app = await handlerServer();
    try {
      const deep = (n: number) =>
        `{"service":"openai","service_settings":{"api_key":"sk-aaaaaaaa","model_id":"m"},"task_settings":{"a":${'['.repeat(n)}${']'.repeat(n)}}}`;
      const res = await http(app.url, 'PUT', '/_inference/completion/deep', deep(10_000));
      assert.equal(res.status, 400, res.body);
      const err = JSON.parse(res.body).error;
      assert.equal(err.type, 'x_content_parse_exception');
      assert.match(err.reason, /^\[1:\d+\] Document nesting depth \(1001\) exceeds the maximum allowed \(1000/);
      const list = await http(app.url, 'GET', '/_inference/_all');
      assert.equal(list.status, 200);
      assert.deepEqual(JSON.parse(list.body).endpoints, []);
      const post = await http(
        app.url,
        'POST',
        '/_inference/completion/deep/_stream',
        `{"input":"x","task_settings":{"a":${'{"b":'.repeat(5000)}1${'}'.repeat(5000)}}}`,
      );
      assert.equal(post.status, 400);
      const fine = await http(app.url, 'PUT', '/_inference/completion/ok', deep(900));
      assert.equal(fine.status, 200, fine.body.slice(0, 200));
      assert.equal((await http(app.url, 'GET', '/_inference')).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('provider answers the server does not pass on (13.9)', () => {
  test('a 3xx is the provider failing (502), never followed nor passed through', async () => {
    const provider = await fakeProvider((_req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/' });
      res.end();
    });
    const app = await handlerServer({ retry: { maxAttempts: 1 } });
    try {
      await http(app.url, 'PUT', '/_inference/completion/r', {
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
      });
      const res = await http(app.url, 'POST', '/_inference/completion/r/_stream', { input: 'x' });
      assert.equal(res.status, 502);
      assert.match(readStream(res.body).error!.reason, /status \[302\]/);
      assert.equal(provider.requests.length, 1);
    } finally {
      await app.close();
      await provider.close();
    }
  });

  test('gzip, deflate and br bodies are decoded; another encoding is a clear error', async () => {
    const bodies: Record<string, Buffer> = {
      gzip: gzipSync(OK),
      deflate: deflateSync(OK),
      br: brotliCompressSync(OK),
      zstd: Buffer.from('\x28\xb5\x2f\xfd binary'),
    };
    const provider = await fakeProvider((req, res) => {
      const enc = req.url.slice(1);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': enc });
      res.end(bodies[enc]);
    });
    const app = await handlerServer({ retry: { maxAttempts: 1 } });
    try {
      for (const enc of Object.keys(bodies)) {
        await http(app.url, 'PUT', `/_inference/completion/${enc}`, {
          service: 'openai',
          service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: `${provider.url}/${enc}` },
        });
        const res = await http(app.url, 'POST', `/_inference/completion/${enc}/_stream`, { input: 'x' });
        const got = readStream(res.body);
        if (enc === 'zstd') {
          assert.match(got.error!.reason, /content-encoding \[zstd\] is not supported/);
          assert.ok(!res.body.includes('binary'));
        } else assert.deepEqual([got.text, got.done], ['Hi', true], `${enc}: ${res.body}`);
      }
    } finally {
      await app.close();
      await provider.close();
    }
  });
});

describe('limits (13.9)', () => {
  test('a full server answers 429 with Retry-After, the same bytes each time, without reading on', async () => {
    const provider = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'); // and never ends
    });
    const app = await handlerServer({ limits: { maxConcurrentStreams: 1 } });
    const held = new AbortController();
    try {
      await http(app.url, 'PUT', '/_inference/completion/e', {
        service: 'openai',
        service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
      });
      const open = await fetch(`${app.url}/_inference/completion/e/_stream`, {
        method: 'POST',
        body: '{"input":"x"}',
        headers: { 'content-type': 'application/json' },
        signal: held.signal,
      });
      assert.equal(open.status, 200);
      const a = await http(app.url, 'POST', '/_inference/completion/e/_stream', { input: 'x' });
      const b = await http(app.url, 'POST', '/_inference/completion/e', { input: 'x' });
      for (const r of [a, b]) {
        assert.equal(r.status, 429);
        assert.equal(r.headers['retry-after'], '1');
      }
      assert.match(a.body, /^event: error\ndata: .*es_rejected_execution_exception/);
      assert.equal(JSON.parse(b.body).error.type, 'es_rejected_execution_exception');
      assert.equal((await http(app.url, 'POST', '/_inference/completion/e/_stream', { input: 'x' })).body, a.body);
      assert.equal(provider.requests.length, 1);
    } finally {
      held.abort();
      await app.close();
      await provider.close();
    }
  });

  test('--limit refuses unknown names, inherited ones included', async () => {
    let err = '';
    const io = {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
    };
    for (const name of ['constructor', 'toString', 'nope']) {
      err = '';
      assert.equal(await main(['serve', '--limit', `${name}=5`, '--port', '0'], io), 2, name);
      assert.match(err, new RegExp(`Unknown limit \\[${name}\\]`));
    }
  });

  test('maxConnections: connections beyond it are closed; a slow request head gets 408', async () => {
    const server = await startInferenceServer({
      port: 0,
      demo: false,
      limits: { maxConnections: 2, headersTimeoutMs: 300 },
    });
    try {
      const { port } = new URL(server.url);
      const a = connect(Number(port), '127.0.0.1');
      const b = connect(Number(port), '127.0.0.1');
      await Promise.all([once(a, 'connect'), once(b, 'connect')]);
      // a and b send half a head and stop: Node answers 408 after the headers timeout
      a.write('GET /_inference HTTP/1.1\r\nHost: x\r\n');
      b.write('GET /_inference HTTP/1.1\r\nHost: x\r\n');
      const c = connect(Number(port), '127.0.0.1');
      c.on('error', () => {});
      await once(c, 'close');
      let answer = '';
      a.on('data', (d) => (answer += d));
      await once(a, 'close');
      b.destroy();
      assert.match(answer, /^HTTP\/1\.1 408 Request Timeout/);
      assert.match(answer, /"type":"timeout_exception"/);
    } finally {
      await server.close();
    }
  });
});

describe('servers own what they create (12)', () => {
  test('closing one server leaves another one streaming', async () => {
    const provider = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(OK);
    });
    const one = await startInferenceServer({ port: 0, demo: false });
    const two = await startInferenceServer({ port: 0, demo: false });
    try {
      for (const s of [one, two]) {
        await http(s.url, 'PUT', '/_inference/completion/p', {
          service: 'openai',
          service_settings: { api_key: 'sk-aaaaaaaa', model_id: 'm', url: provider.url },
        });
        assert.equal(
          readStream((await http(s.url, 'POST', '/_inference/completion/p/_stream', { input: 'x' })).body).text,
          'Hi',
        );
      }
      await one.close();
      const after = await http(two.url, 'POST', '/_inference/completion/p/_stream', { input: 'x' });
      assert.equal(after.status, 200, after.body);
      assert.equal(readStream(after.body).text, 'Hi');
    } finally {
      await two.close();
      await provider.close();
    }
  });

  test('a client given by the caller is not closed by the server', async () => {
    const dispatcher = new Agent();
    const server = await startInferenceServer({ port: 0, demo: false, client: { dispatcher } });
    await server.close();
    assert.equal(dispatcher.closed, false);
    assert.equal(dispatcher.destroyed, false);
    await dispatcher.close();
  });
});

test('settings of the test service account are real', () => assert.ok(testServiceAccount().includes('PRIVATE KEY')));
