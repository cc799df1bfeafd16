import { Transform, type TransformCallback } from 'node:stream';
import { errorBody, toInferenceError, type InferenceError } from '../errors.js';
import type { TextDelta } from '../providers/types.js';

const BOM = '\uFEFF';

export interface SerializeOptions {
  /** Prefix every event with U+FEFF, byte for byte as Elasticsearch writes it. Default false. */
  bom?: boolean;
}

/** `event: message` + `data: {"completion":[{"delta":"…"},…]}` for answer texts, compact JSON. */
export function completionEvent(texts: readonly string[], bom = false): string {
  let json = '{"completion":[';
  for (let i = 0; i < texts.length; i++) {
    if (i > 0) json += ',';
    json += '{"delta":' + JSON.stringify(texts[i]) + '}';
  }
  return (bom ? BOM : '') + 'event: message\ndata: ' + json + ']}\n\n';
}

/** The event that ends a clean stream. */
export function doneEvent(bom = false): string {
  return (bom ? BOM : '') + 'event: message\ndata: [DONE]\n\n';
}

/** Elasticsearch's error event; nothing follows it. */
export function errorEvent(err: InferenceError, bom = false): string {
  return (bom ? BOM : '') + 'event: error\ndata: ' + JSON.stringify(errorBody(err)) + '\n\n';
}

/**
 * `completion` arrays (arrays of `{delta}`, as `batch()` writes them) in, Elasticsearch
 * SSE bytes out; `[DONE]` at a clean end. Write an Error (or call `fail`) to end the
 * stream with an error event instead.
 */
export class Serializer extends Transform {
  private readonly bom: boolean;
  private failed = false;

  constructor(options: SerializeOptions = {}) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.bom = options.bom ?? false;
  }

  override _transform(batch: readonly TextDelta[] | Error, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.failed) return callback();
    if (batch instanceof Error) {
      this.fail(batch);
      return callback();
    }
    if (!Array.isArray(batch)) return callback();
    const texts: string[] = [];
    for (const d of batch) if (d && typeof d.delta === 'string' && d.delta.length > 0) texts.push(d.delta);
    if (texts.length > 0) this.push(completionEvent(texts, this.bom));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.failed) this.push(doneEvent(this.bom));
    callback();
  }

  /** Ends the output with Elasticsearch's error event (no `[DONE]` after it). */
  fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.push(errorEvent(toInferenceError(err), this.bom));
    this.push(null);
  }
}

/** `completion` arrays in, Elasticsearch SSE bytes out: `new Serializer(options)`. */
export function serialize(options?: SerializeOptions): Serializer {
  return new Serializer(options);
}
