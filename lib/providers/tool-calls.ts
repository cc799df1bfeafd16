import { randomBytes } from 'node:crypto';
import type { DeltaObject } from './types.js';

/** A call id for providers that send none (Gemini, Ollama): unique per call. */
export function generatedCallId(): string {
  return 'call_' + randomBytes(12).toString('base64url');
}

interface Call {
  index: number;
  id: string;
  /** Whether any arguments went out for it. */
  args: boolean;
}

/**
 * The tool calls of one answer, as the provider streams them, turned into OpenAI's
 * streaming form ({@link ToolCallDelta}). The provider names a call by its own key (a
 * content-block index, an OpenAI index); calls are numbered from 0 in the order they
 * start, so Anthropic and Bedrock block indexes that also count text blocks become 0, 1…
 * A call's id and name go out once, in its first delta, whatever the provider repeats.
 */
export class ToolCalls {
  private readonly calls = new Map<number | string, Call>();
  private next = 0;

  /** How many calls the answer has made so far. */
  get count(): number {
    return this.next;
  }

  /**
   * The first piece of a call (`id` generated when the provider gives none). A call whose
   * key is already open but whose id differs starts a new call (servers that send each of
   * several calls whole, all at index 0).
   */
  start(out: DeltaObject[], key: number | string, id: string | undefined, name: string, args?: string): void {
    const call: Call = {
      index: this.next++,
      id: id !== undefined && id.length > 0 ? id : generatedCallId(),
      args: args !== undefined && args.length > 0,
    };
    this.calls.set(key, call);
    const delta: { index: number; id: string; name: string; arguments?: string } = {
      index: call.index,
      id: call.id,
      name,
    };
    if (args !== undefined && args.length > 0) delta.arguments = args;
    out.push({ tool_call: delta });
  }

  /** A piece of a call's arguments; ignored when no call with this key was started. */
  args(out: DeltaObject[], key: number | string, text: string): void {
    if (text.length === 0) return;
    const call = this.calls.get(key);
    if (call === undefined) return;
    call.args = true;
    out.push({ tool_call: { index: call.index, arguments: text } });
  }

  /**
   * The provider ended a call's block (Anthropic `content_block_stop`, Bedrock
   * `contentBlockStop`): a call that got no argument text has the arguments `{}`, so that
   * every call's arguments are JSON.
   */
  close(out: DeltaObject[], key: number | string): void {
    const call = this.calls.get(key);
    if (call === undefined) return;
    this.calls.delete(key);
    if (!call.args) out.push({ tool_call: { index: call.index, arguments: '{}' } });
  }

  /**
   * OpenAI-style pieces, where any piece may carry id / name / arguments: a new key (or a
   * new id at a known key) starts a call, the rest are argument pieces.
   */
  piece(
    out: DeltaObject[],
    key: number | string,
    id: string | undefined,
    name: string | undefined,
    args: string | undefined,
  ): void {
    const call = this.calls.get(key);
    if (call === undefined || (id !== undefined && id.length > 0 && id !== call.id)) {
      if (name === undefined && call === undefined) {
        // arguments before the name: nothing to attach them to yet
        if (args === undefined || args.length === 0) return;
      }
      this.start(out, key, id, name ?? '', args);
      return;
    }
    if (args !== undefined) this.args(out, key, args);
  }

  /** A call that arrives whole (Gemini `functionCall`, Ollama `tool_calls`): one delta with everything. */
  whole(out: DeltaObject[], id: string | undefined, name: string, args: string): void {
    this.start(out, `#whole${this.next}`, id, name, args);
  }
}
