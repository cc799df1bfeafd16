/**
 * Counts the inference requests in flight, from the moment one is accepted until its
 * provider connection is closed (a drained answer included). `acquire` returns a release
 * function (idempotent: calling it twice frees one slot only), or null when all are taken.
 */
export class StreamSlots {
  private open = 0;
  constructor(readonly max: number) {}

  get inUse(): number {
    return this.open;
  }

  acquire(): (() => void) | null {
    if (this.open >= this.max) return null;
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }
}
