import { summarize, type Summary } from './stats.js';

export interface Contender {
  name: string;
  ours?: boolean;
  run: () => unknown | Promise<unknown>;
}

export interface Timed {
  name: string;
  ours: boolean;
  /** Milliseconds per pass. */
  ms: Summary;
}

/**
 * Runs the contenders interleaved (round robin, start rotated every round) so drift,
 * JIT state and GC pressure fall on all of them alike; ratios come from the same rounds.
 */
export async function timeInterleaved(contenders: Contender[], rounds: number, warmup: number): Promise<Timed[]> {
  const samples = contenders.map(() => [] as number[]);
  for (let r = 0; r < warmup + rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + r) % contenders.length;
      // No forced GC between passes: a full GC before a pass shrinks the young generation and
      // makes the next pass pay for regrowing it (measured: PassThrough 150 -> 900 ns/event).
      const t0 = performance.now();
      await contenders[i]!.run();
      const ms = performance.now() - t0;
      if (r >= warmup) samples[i]!.push(ms);
    }
  }
  return contenders.map((c, i) => ({ name: c.name, ours: c.ours ?? false, ms: summarize(samples[i]!) }));
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: () => void }).gc === 'function';
}
