// A mixed, seeded load of faults, hang-ups and readers that stop: shared by the leak test
// (a few hundred requests) and `npm run chaos` (thousands, against `npm start`).
import { request as httpRequest } from 'node:http';
import { EXPECTED, mismatch, type Answer } from './harness.js';
import { parseEsEvents } from '../helpers/streams.js';
import type { Fault } from '../helpers/bad-provider.js';

export type Action =
  | { kind: 'stream'; fault: Exclude<Fault, 'flaky'> }
  | { kind: 'infer'; fault: Exclude<Fault, 'flaky'> }
  | { kind: 'hang-up'; fault: Fault; afterBytes: number }
  | { kind: 'never-read'; fault: Fault }
  | { kind: 'no-key' | 'wrong-key' | 'monitor-put' }
  | { kind: 'junk'; path: string; body: Buffer; method: string };

export interface Tally {
  requests: number;
  byKind: Record<string, number>;
  problems: string[];
  /** Searched for in everything a client receives (not kept: the load runs to gigabytes). */
  secret: string | null;
  /** Where the secret showed up, with some context. */
  leaks: string[];
  /** Bytes received by all clients. */
  bytes: number;
}

function observe(tally: Tally, text: string): void {
  tally.bytes += text.length;
  const at = tally.secret === null ? -1 : text.indexOf(tally.secret);
  if (at >= 0) tally.leaks.push(text.slice(Math.max(0, at - 200), at + 60));
}

/** Small deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
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

const QUICK: Exclude<Fault, 'flaky'>[] = [
  'ok',
  'ok',
  'ok',
  'reset-before',
  'reset-mid',
  'status-429',
  'status-500',
  'garbage',
  'binary',
  'invalid-utf8',
  'wrong-content-type',
  'echo-auth',
  'echo-auth-mid',
  'endless-line',
];
const SLOW: Exclude<Fault, 'flaky'>[] = ['stall-first-byte', 'stall-mid', 'stall-headers', 'huge'];
const JUNK_PATHS = [
  '/_inference/completion/junk/_stream',
  '/_inference/%E0%A4%A',
  '/_inference/../../etc/passwd',
  '/_inference/completion/junk?timeout=-5',
  '/_inference/' + 'a'.repeat(3000),
  '/_inference/completion/junk/_stream?timeout=1h',
  '/',
  '/_inference/completion/%00/_stream',
];

export function pickAction(random: () => number, options: { auth: boolean; slow: boolean }): Action {
  const r = random();
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  if (r < 0.38) return { kind: 'stream', fault: options.slow && random() < 0.15 ? pick(SLOW) : pick(QUICK) };
  if (r < 0.45) return { kind: 'infer', fault: options.slow && random() < 0.15 ? pick(SLOW) : pick(QUICK) };
  if (r < 0.6)
    return {
      kind: 'hang-up',
      fault: pick(['ok', 'stall-mid', 'huge', 'stall-first-byte', 'stall-headers'] as const),
      afterBytes: Math.floor(random() * 400),
    };
  if (r < 0.67) return { kind: 'never-read', fault: pick(['huge', 'ok', 'stall-mid'] as const) };
  if (options.auth && r < 0.8) return { kind: pick(['no-key', 'wrong-key', 'monitor-put'] as const) };
  const body = Buffer.alloc(Math.floor(random() * 200));
  for (let i = 0; i < body.length; i++) body[i] = Math.floor(random() * 256);
  const bodies = [
    body,
    Buffer.from('{"input":'),
    Buffer.from('{"input":["a","b"]}'),
    Buffer.from('{"input":{"x":1}}'),
    Buffer.from(`{"input":"${'x'.repeat(2_000_000)}"}`),
    Buffer.from('[]'),
    Buffer.from('{"input":"hi","task_settings":{"temperature":"hot"}}'),
  ];
  return {
    kind: 'junk',
    path: pick(JUNK_PATHS),
    body: pick(bodies),
    method: pick(['POST', 'PUT', 'GET', 'DELETE', 'PATCH']),
  };
}

export interface Target {
  url: string;
  /** Authorization header values; null when the server runs without keys. */
  keys: { manage: string; monitor: string } | null;
}

function send(
  target: Target,
  method: string,
  path: string,
  body: Buffer | string | undefined,
  headers: Record<string, string>,
  onResponse?: (res: import('node:http').IncomingMessage, req: import('node:http').ClientRequest) => void,
): Promise<Answer | null> {
  return new Promise((resolve) => {
    const length: Record<string, string> =
      body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(new URL(path, target.url), {
      method,
      agent: false,
      headers: { 'content-type': 'application/json', ...length, ...headers },
    });
    req.on('error', () => resolve(null));
    req.on('close', () => resolve(null));
    req.on('response', (res) => {
      res.on('error', () => resolve(null));
      if (onResponse) return onResponse(res, req);
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          events: String(res.headers['content-type']).startsWith('text/event-stream') ? parseEsEvents(text) : [],
        });
      });
    });
    req.end(body);
  });
}

/** Runs one action and records what is wrong with its outcome. */
export async function runAction(target: Target, action: Action, tally: Tally, stalledReaderMs = 2500): Promise<void> {
  tally.requests++;
  const label = action.kind === 'stream' || action.kind === 'infer' ? `${action.kind} ${action.fault}` : action.kind;
  tally.byKind[label] = (tally.byKind[label] ?? 0) + 1;
  const auth: Record<string, string> = target.keys ? { authorization: target.keys.monitor } : {};
  const streamPath = (id: string) =>
    `/_inference/completion/${id}/_stream${id === 'stall-headers' ? '?timeout=300ms' : ''}`;
  switch (action.kind) {
    case 'stream': {
      const answer = await send(target, 'POST', streamPath(action.fault), '{"input":"hi"}', auth);
      if (!answer) return void tally.problems.push(`stream ${action.fault}: connection failed`);
      observe(tally, answer.text);
      const wrong = mismatch(answer, EXPECTED[action.fault]);
      if (wrong) tally.problems.push(`stream ${action.fault}: ${wrong}`);
      return;
    }
    case 'infer': {
      // the non-streaming route: the whole answer as JSON, or a JSON error with its status
      const answer = await send(
        target,
        'POST',
        `/_inference/completion/${action.fault}${action.fault === 'stall-headers' ? '?timeout=300ms' : ''}`,
        '{"input":"hi"}',
        auth,
      );
      if (!answer) return void tally.problems.push(`infer ${action.fault}: connection failed`);
      observe(tally, answer.text);
      let body: { completion?: { result: string }[]; error?: { type?: string }; status?: number };
      try {
        body = JSON.parse(answer.text);
      } catch {
        return void tally.problems.push(
          `infer ${action.fault}: not JSON: ${answer.status} ${answer.text.slice(0, 200)}`,
        );
      }
      const expected = EXPECTED[action.fault];
      if ('ok' in expected) {
        if (answer.status !== 200 || body.completion?.[0]?.result !== expected.ok)
          tally.problems.push(`infer ${action.fault}: ${answer.status} ${answer.text.slice(0, 200)}`);
      } else if (answer.status < 400 || typeof body.error?.type !== 'string' || body.status !== answer.status) {
        tally.problems.push(
          `infer ${action.fault}: expected a JSON error, got ${answer.status} ${answer.text.slice(0, 200)}`,
        );
      }
      return;
    }
    case 'hang-up':
    case 'never-read': {
      await send(target, 'POST', streamPath(action.fault), '{"input":"hi"}', auth, (res, req) => {
        let got = 0;
        const limit = action.kind === 'hang-up' ? action.afterBytes : 1;
        const onData = (c: Buffer) => {
          got += c.length;
          observe(tally, c.toString('utf8'));
          if (got < limit) return;
          res.off('data', onData);
          if (action.kind === 'hang-up') return void req.destroy();
          // stops reading for longer than the server lets a stream last (stalledReaderMs): by the time
          // this client reads again, the server must have ended the stream and let go of the connection
          res.pause();
          setTimeout(() => res.resume(), stalledReaderMs);
        };
        res.on('data', onData);
        res.on('end', () => req.destroy());
        res.on('aborted', () => req.destroy());
      });
      return;
    }
    case 'no-key':
    case 'wrong-key': {
      const headers: Record<string, string> =
        action.kind === 'wrong-key' ? { authorization: 'ApiKey d3JvbmcwMTIzNDU2Nzg5Ondyb25nLWtleS0wMTIzNDU2Nzg5' } : {};
      // `canary` points at the provider with ?canary: any request that arrives there got past the keys
      const answer = await send(target, 'POST', streamPath('canary'), '{"input":"hi"}', headers);
      if (!answer) return void tally.problems.push(`${action.kind}: connection failed`);
      observe(tally, answer.text);
      if (
        answer.status !== 401 ||
        !/security_exception/.test(answer.text) ||
        !String(answer.headers['www-authenticate'] ?? '').includes('ApiKey')
      ) {
        tally.problems.push(
          `${action.kind}: expected 401 with WWW-Authenticate, got ${answer.status} ${answer.text.slice(0, 200)}`,
        );
      }
      return;
    }
    case 'monitor-put': {
      const answer = await send(
        target,
        'PUT',
        '/_inference/completion/canary-put',
        '{"service":"openai","service_settings":{"api_key":"x","url":"http://127.0.0.1:1/canary"}}',
        auth,
      );
      if (!answer) return void tally.problems.push('monitor-put: connection failed');
      observe(tally, answer.text);
      if (answer.status !== 403 || !answer.text.includes('cluster:admin/xpack/inference/put'))
        tally.problems.push(`monitor-put: expected 403, got ${answer.status} ${answer.text.slice(0, 200)}`);
      return;
    }
    case 'junk': {
      const answer = await send(target, action.method, action.path, action.body, auth);
      if (!answer)
        return void tally.problems.push(`junk ${action.method} ${action.path.slice(0, 60)}: connection failed`);
      observe(tally, answer.text);
      if (answer.status >= 500 && !/status_exception|timeout|incomplete|parse|frame/.test(answer.text))
        tally.problems.push(
          `junk ${action.method} ${action.path.slice(0, 60)}: ${answer.status} ${answer.text.slice(0, 200)}`,
        );
      if (answer.status !== 200 && !answer.text.includes('"type"'))
        tally.problems.push(
          `junk ${action.method} ${action.path.slice(0, 60)}: error without a type: ${answer.status} ${answer.text.slice(0, 200)}`,
        );
      return;
    }
  }
}

/** Runs `count` actions, `concurrency` at a time. */
export async function runWorkload(
  target: Target,
  options: {
    count: number;
    concurrency: number;
    seed: number;
    slow: boolean;
    secret: string | null;
    stalledReaderMs?: number;
  },
): Promise<Tally> {
  const tally: Tally = { requests: 0, byKind: {}, problems: [], secret: options.secret, leaks: [], bytes: 0 };
  const random = rng(options.seed);
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      next++;
      await runAction(
        target,
        pickAction(random, { auth: target.keys !== null, slow: options.slow }),
        tally,
        options.stalledReaderMs,
      );
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return tally;
}

/** Registers one endpoint per fault (the planted secret as key) over HTTP. */
export async function registerFaults(
  target: Target,
  providerUrl: (fault: Fault) => string,
  secret: string,
  faults: readonly Fault[],
): Promise<void> {
  for (const fault of faults) {
    const answer = await send(
      target,
      'PUT',
      `/_inference/completion/${fault}`,
      JSON.stringify({
        service: 'openai',
        service_settings: { api_key: secret, model_id: 'm', url: providerUrl(fault) },
      }),
      target.keys ? { authorization: target.keys.manage } : {},
    );
    if (!answer || answer.status !== 200) throw new Error(`registering ${fault}: ${answer?.status} ${answer?.text}`);
  }
}
