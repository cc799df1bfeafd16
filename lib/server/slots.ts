import { tooManyStreams } from '../errors.js';

/**
 * Counts open streams. `acquire` returns a release function (idempotent: calling it twice
 * frees one slot only), or throws the 429 to answer with before any provider is called.
 */
export class StreamSlots {
  private open = 0;
  constructor(readonly max: number) {}

  get inUse(): number {
    return this.open;
  }

  acquire(): () => void {
    if (this.open >= this.max) throw tooManyStreams(this.max);
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }
}
