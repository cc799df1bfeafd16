import assert from 'node:assert/strict';

/** Key orders Elasticsearch writes (StreamingUnifiedChatCompletionResults); every key optional but id/model/object. */
const ORDER = {
  chunk: ['id', 'choices', 'model', 'object', 'usage'],
  choice: ['delta', 'finish_reason', 'index'],
  delta: ['content', 'refusal', 'role', 'tool_calls'],
  call: ['index', 'id', 'function', 'type'],
  fn: ['arguments', 'name'],
  usage: ['completion_tokens', 'prompt_tokens', 'total_tokens'],
} as const;

function inOrder(obj: object, order: readonly string[], what: string): void {
  const keys = Object.keys(obj);
  let at = -1;
  for (const k of keys) {
    const i = order.indexOf(k);
    assert.ok(i > at, `${what}: key [${k}] out of place in [${keys.join(', ')}] (order ${order.join(', ')})`);
    at = i;
  }
  for (const k of keys)
    assert.notEqual((obj as Record<string, unknown>)[k], null, `${what}: [${k}] is null (nulls are omitted)`);
}

/** What a chat_completion SSE body says, checked event by event. */
export interface ChatOutcome {
  chunks: Record<string, unknown>[];
  text: string;
  calls: { id: string; name: string; arguments: string; type: string }[];
  finish: string | undefined;
  usage: unknown;
  done: boolean;
  error: { code?: string; message: string; param?: string; type: string } | null;
  /** Every event's raw lines (for framing checks). */
  events: { event: string; data: string }[];
}

/**
 * Reads a `chat_completion` stream (BOM before events tolerated) and checks the contract on
 * the way: one JSON chunk per `event: message`, Elasticsearch's key order at every level,
 * no nulls, `object` `chat.completion.chunk`, the first chunk with role assistant, a call's
 * id / name / type only in its first delta, `[DONE]` last or one `event: error` last.
 */
export function readChat(body: string): ChatOutcome {
  const out: ChatOutcome = {
    chunks: [],
    text: '',
    calls: [],
    finish: undefined,
    usage: undefined,
    done: false,
    error: null,
    events: [],
  };
  const blocks = body.split('\n\n');
  assert.equal(blocks.pop(), '', 'the body ends with a blank line');
  for (const raw of blocks) {
    const block = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
    const lines = block.split('\n');
    assert.equal(lines.length, 2, `one event line and one data line: ${JSON.stringify(block)}`);
    assert.ok(lines[0]!.startsWith('event: ') && lines[1]!.startsWith('data: '), block);
    const event = lines[0]!.slice(7);
    const data = lines[1]!.slice(6);
    out.events.push({ event, data });
    assert.ok(!out.done && out.error === null, 'nothing after [DONE] or an error');
    if (event === 'error') {
      const json = JSON.parse(data) as { error: ChatOutcome['error'] };
      assert.deepEqual(Object.keys(json), ['error']);
      inOrder(json.error!, ['code', 'message', 'param', 'type'], 'error');
      out.error = json.error;
      continue;
    }
    assert.equal(event, 'message');
    if (data === '[DONE]') {
      out.done = true;
      continue;
    }
    const chunk = JSON.parse(data) as Record<string, unknown>;
    inOrder(chunk, ORDER.chunk, 'chunk');
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(typeof chunk.id, 'string');
    assert.equal(typeof chunk.model, 'string');
    out.chunks.push(chunk);
    if (chunk.usage !== undefined) {
      inOrder(chunk.usage as object, ORDER.usage, 'usage');
      out.usage = chunk.usage;
    }
    const choices = chunk.choices as Record<string, unknown>[];
    assert.ok(Array.isArray(choices));
    if (out.chunks.length === 1)
      assert.equal((choices[0]?.delta as { role?: string })?.role, 'assistant', 'the first chunk has the role');
    for (const choice of choices) {
      inOrder(choice, ORDER.choice, 'choice');
      assert.equal(choice.index, 0);
      if (typeof choice.finish_reason === 'string') out.finish = choice.finish_reason;
      const delta = choice.delta as Record<string, unknown>;
      inOrder(delta, ORDER.delta, 'delta');
      if (typeof delta.content === 'string') out.text += delta.content;
      for (const call of (delta.tool_calls as Record<string, unknown>[] | undefined) ?? []) {
        inOrder(call, ORDER.call, 'tool call');
        const fn = (call.function ?? {}) as { arguments?: string; name?: string };
        inOrder(fn, ORDER.fn, 'function');
        const index = call.index as number;
        const known = out.calls[index];
        if (known === undefined) {
          assert.equal(index, out.calls.length, 'tool-call indexes count from 0');
          assert.equal(typeof call.id, 'string', 'the first delta of a call has its id');
          assert.equal(typeof fn.name, 'string', 'the first delta of a call has its name');
          assert.equal(call.type, 'function');
          out.calls.push({ id: call.id as string, name: fn.name!, arguments: fn.arguments ?? '', type: 'function' });
        } else {
          assert.equal(call.id, undefined, 'a call id only in its first delta');
          assert.equal(fn.name, undefined, 'a call name only in its first delta');
          assert.equal(call.type, undefined);
          known.arguments += fn.arguments ?? '';
        }
      }
    }
  }
  assert.ok(out.done || out.error !== null, 'the stream ends with [DONE] or an error');
  return out;
}
