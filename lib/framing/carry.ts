/**
 * Bytes of a frame or line still incomplete at the end of a read, copied into one owned
 * buffer that doubles as it grows. Keeping a view per read instead would cost a Buffer
 * object (~100 bytes of heap) for every 1-byte read of a long line; copying costs one
 * amortised pass over the bytes and nothing when the pending part is short.
 */
export class Carry {
  private buf: Buffer = Buffer.allocUnsafe(0);
  length = 0;

  append(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    const need = this.length + n;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, 256));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.length, from, to);
    this.length = need;
  }

  /** The carried bytes (a view, valid until the next append or clear). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** The carried bytes decoded as UTF-8. */
  text(): string {
    return this.buf.toString('utf8', 0, this.length);
  }

  clear(): void {
    this.length = 0;
    // A huge line must not pin its buffer for the rest of the stream.
    if (this.buf.length > 64 * 1024) this.buf = Buffer.allocUnsafe(0);
  }
}
