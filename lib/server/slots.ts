import { tooManyStreams } from './limits.js';
import type { InferenceError } from '../errors.js';

/**
 * Counts open streams. `acquire` either returns a release function (idempotent: calling it
 * twice frees one slot only) or the 429 to answer with before any provider is called.
 */
export class StreamSlots {
  private open = 0;
  constructor(readonly max: number) {}

  get inUse(): number {
    return this.open;
  }

  acquire(): (() => void) | InferenceError {
    if (this.open >= this.max) return tooManyStreams(this.max);
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }
}
