// chatCompletionStream over every provider's chat answers (text, one tool call, parallel
// calls, a call after text, an error mid-stream), whole, in 1-byte reads and under random
// cuts: the chunks, their key order, the text, the calls per index, the finish reason and
// the usage must come out the same whatever the cut.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chatCompletionStream, type ChatCompletionStreamOptions } from '../../lib/pipeline/chat-completion-stream.js';
import { chatCases } from '../fixtures/chat/cases.js';
import type { ChatCase } from '../fixtures/chat/types.js';
import { readChat, type ChatOutcome } from '../helpers/chat.js';
import { cutAt, cutEvery, source } from '../helpers/streams.js';
import { completionStream } from '../../lib/pipeline/completion-stream.js';

const RUNS = Number(process.env.FIXTURE_CUT_RUNS ?? 15);

async function run(
  provider: string,
  chunks: readonly Buffer[],
  options: ChatCompletionStreamOptions = {},
): Promise<string> {
  const stream = chatCompletionStream(provider as 'openai', options);
  let out = '';
  stream.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const done = new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  source(chunks).pipe(stream);
  await done;
  return out;
}

function bytes(c: ChatCase): Buffer {
  return typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : c.body;
}

function check(c: ChatCase, got: ChatOutcome, how: string): void {
  const what = `${c.name} (${how})`;
  assert.equal(got.text, c.text, `${what}: text`);
  assert.equal(got.calls.length, c.calls.length, `${what}: number of calls`);
  c.calls.forEach((want, i) => {
    const call = got.calls[i]!;
    assert.equal(call.name, want.name, `${what}: call ${i} name`);
    assert.equal(call.arguments, want.arguments, `${what}: call ${i} arguments`);
    if (want.id !== undefined) assert.equal(call.id, want.id, `${what}: call ${i} id`);
    else assert.match(call.id, /^call_[A-Za-z0-9_-]{8,}$/, `${what}: generated id`);
  });
  assert.equal(new Set(got.calls.map((x) => x.id)).size, got.calls.length, `${what}: call ids are distinct`);
  if (c.error) {
    assert.ok(got.error, `${what}: expected an error event`);
    assert.ok(got.error.message.includes(c.error.messageIncludes ?? ''), `${what}: ${got.error.message}`);
    assert.equal(got.done, false);
    assert.equal(got.usage, undefined, 'no usage chunk after an error');
  } else {
    assert.equal(got.error, null, `${what}: ${JSON.stringify(got.error)}`);
    assert.equal(got.finish, c.finish, `${what}: finish reason`);
    assert.deepEqual(got.usage, c.usage, `${what}: usage`);
    if (c.usage) {
      const last = got.chunks[got.chunks.length - 1]!;
      assert.deepEqual(last.choices, [], 'usage comes in the last chunk, with no choices');
    }
  }
}

describe('chatCompletionStream', () => {
  assert.ok(chatCases.length >= 70, `${chatCases.length} cases`);
  for (const c of chatCases) {
    describe(c.name, () => {
      test('whole body', async () => {
        check(c, readChat(await run(c.provider, [bytes(c)], { contentType: c.contentType })), 'one read');
      });
      test('1-byte reads, framing sniffed', async () => {
        check(c, readChat(await run(c.provider, cutEvery(bytes(c), 1))), '1-byte reads');
      });
      test('every cut gives the same chunks', async () => {
        const body = bytes(c);
        const reference = readChat(await run(c.provider, [body], { contentType: c.contentType }));
        await fc.assert(
          fc.asyncProperty(fc.array(fc.nat({ max: Math.max(body.length, 1) }), { maxLength: 30 }), async (offsets) => {
            const got = readChat(await run(c.provider, cutAt(body, offsets), { contentType: c.contentType }));
            check(c, got, `cuts ${offsets.join(',')}`);
            // same events, except generated ids
            assert.equal(got.events.length, reference.events.length);
          }),
          { numRuns: RUNS },
        );
      });
    });
  }

  test('BOM before every event, when asked', async () => {
    const c = chatCases.find((x) => x.provider === 'openai' && x.calls.length > 1)!;
    const body = await run('openai', [bytes(c)], { bom: true });
    const events = body.split('\n\n').slice(0, -1);
    assert.ok(events.length > 3);
    for (const e of events) assert.ok(e.startsWith('\uFEFFevent: '), JSON.stringify(e.slice(0, 20)));
    check(c, readChat(body), 'bom');
  });

  test('a non-2xx provider answer is one unified error event with the mapped status', async () => {
    const body = await run(
      'openai',
      [
        Buffer.from(
          '{"error":{"message":"Incorrect API key provided: sk-...","type":"invalid_request_error","code":"invalid_api_key"}}',
        ),
      ],
      {
        status: 401,
        contentType: 'application/json',
        inferenceId: 'my-chat',
      },
    );
    const got = readChat(body);
    assert.equal(got.chunks.length, 0);
    assert.deepEqual(Object.keys(got.error!), ['code', 'message', 'type']);
    assert.equal(got.error!.code, 'unauthorized');
    assert.equal(got.error!.type, 'status_exception');
    assert.match(
      got.error!.message,
      /Received an authentication error status code for request from inference entity id \[my-chat\] status \[401\]/,
    );
  });

  test('reasoning is not content; refusal is; completionStream ignores role and tool calls', async () => {
    const c = (o: object) =>
      `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', model: 'm', ...o })}\n\n`;
    const body = Buffer.from(
      c({ choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'thinking…' } }] }) +
        c({ choices: [{ index: 0, delta: { content: 'A' } }] }) +
        c({ choices: [{ index: 0, delta: { refusal: 'No.' } }] }) +
        c({
          choices: [
            {
              index: 0,
              delta: {
                tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
              },
            },
          ],
        }) +
        c({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }) +
        'data: [DONE]\n\n',
    );
    const chat = readChat(await run('openai', [body]));
    assert.equal(chat.text, 'A');
    assert.equal(
      chat.chunks
        .map((ch) => (ch.choices as { delta: { refusal?: string } }[])[0]?.delta.refusal)
        .filter(Boolean)
        .join(''),
      'No.',
    );
    const stream = completionStream('openai');
    let completion = '';
    stream.on('data', (b: Buffer) => (completion += b));
    await new Promise((resolve) => {
      stream.once('end', resolve);
      stream.end(body);
    });
    assert.equal(
      completion,
      'event: message\ndata: {"completion":[{"delta":"A"}]}\n\nevent: message\ndata: [DONE]\n\n',
    );
  });
});
