import type { DeltaObject } from '../providers/types.js';

/**
 * Texts of a batch held as the JSON string tokens they were in the provider's bytes
 * (quotes included), to be copied to the output as they are: entry `i` is such a token,
 * `bufs[i][froms[i]…tos[i])`, when `bufs[i]` is set.
 */
export interface HeldTokens {
  readonly bufs: readonly (Buffer | undefined)[];
  readonly froms: readonly number[];
  readonly tos: readonly number[];
}

export interface BatchOptions {
  /** Most deltas coalesced into one `completion` array while the consumer is not reading. Default 1024. */
  maxDeltas?: number;
  /** Most answer bytes (UTF-16 code units, as a cheap bound) coalesced while the consumer is not reading. Default 64 KiB. */
  maxBytes?: number;
  /** Hold deltas for up to this long after an event, for fewer, larger events. Default 0 (off). The first delta is never held. */
  maxDelayMs?: number;
}

/**
 * The batching rule, shared by `batch()` and the composed `completionStream`:
 * each upstream read's answer texts form one array (as Elasticsearch does); while the
 * consumer is behind they keep coalescing into the pending array up to the bounds.
 * Order is kept; a delta is never split or dropped.
 */
export class Batcher {
  readonly maxDeltas: number;
  readonly maxBytes: number;
  readonly maxDelayMs: number;
  /** The pending texts are `texts[0…count)`: the array is kept and refilled, not made anew per batch. */
  private texts: string[] = [];
  private count = 0;
  private chars = 0;
  private lastEmit = -1;
  /** Tokens among the pending texts (see {@link addToken}); bufs[i] is unset for every other entry. */
  private held: { bufs: (Buffer | undefined)[]; froms: number[]; tos: number[] } | null = null;
  private tokenCount = 0;

  constructor(options: BatchOptions = {}) {
    this.maxDeltas = Math.max(1, options.maxDeltas ?? 1024);
    this.maxBytes = Math.max(1, options.maxBytes ?? 64 * 1024);
    this.maxDelayMs = Math.max(0, options.maxDelayMs ?? 0);
  }

  get pending(): number {
    return this.count;
  }

  /** Adds the answer texts among `deltas`. */
  add(deltas: readonly DeltaObject[]): void {
    for (let i = 0; i < deltas.length; i++) {
      const text = (deltas[i] as { delta?: unknown }).delta;
      if (typeof text === 'string' && text.length > 0) {
        this.texts[this.count++] = text;
        this.chars += text.length;
      }
    }
  }

  addText(text: string): void {
    if (text.length === 0) return;
    this.texts[this.count++] = text;
    this.chars += text.length;
  }

  /**
   * Adds an answer text as its JSON string token `buf[from…to)` (quotes included), which
   * must be what JSON.stringify writes for the text. The Buffer is held until the batch is taken.
   */
  addToken(buf: Buffer, from: number, to: number): void {
    const held = (this.held ??= { bufs: [], froms: [], tos: [] });
    const i = this.count++;
    this.texts[i] = '';
    held.bufs[i] = buf;
    held.froms[i] = from;
    held.tos[i] = to;
    this.tokenCount++;
    this.chars += to - from - 2;
  }

  /** The tokens among the pending texts, or null when there are none: entries {@link peek} shows as ''. */
  get tokens(): HeldTokens | null {
    return this.tokenCount > 0 ? this.held : null;
  }

  /** Full: must go out even though the consumer is behind. */
  get full(): boolean {
    return this.count >= this.maxDeltas || this.chars >= this.maxBytes;
  }

  /** Milliseconds to hold the pending array for `maxDelayMs` (0: send now). */
  holdFor(now: number): number {
    if (this.maxDelayMs === 0 || this.lastEmit < 0) return 0;
    const wait = this.lastEmit + this.maxDelayMs - now;
    return wait > 0 ? wait : 0;
  }

  /** Takes the pending texts as a new array (empty when none). */
  take(now: number): string[] {
    const texts = this.texts.slice(0, this.count);
    const held = this.tokens;
    if (held !== null) {
      for (let i = 0; i < texts.length; i++) {
        const buf = held.bufs[i];
        if (buf !== undefined) texts[i] = JSON.parse(buf.toString('utf8', held.froms[i], held.tos[i])) as string;
      }
    }
    if (texts.length > 0) this.taken(now);
    return texts;
  }

  /**
   * The pending texts in place: the first {@link pending} entries, valid until the next add
   * or take; an entry held as a token (see {@link tokens}) is ''.
   */
  peek(): readonly string[] {
    return this.texts;
  }

  /** Forgets the pending texts once they were written from {@link peek}. */
  taken(now: number): void {
    // A large batch would keep its texts reachable until overwritten: start a fresh array then.
    if (this.count > 64) this.texts = [];
    if (this.tokenCount > 0) {
      // Unset every entry, so that no Buffer is held and the next texts are not taken for tokens.
      if (this.count > 64) this.held = null;
      else {
        const bufs = this.held!.bufs;
        for (let i = 0; i < this.count; i++) bufs[i] = undefined;
      }
      this.tokenCount = 0;
    }
    this.count = 0;
    this.chars = 0;
    this.lastEmit = now;
  }
}
