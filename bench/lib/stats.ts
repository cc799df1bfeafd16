/** Sorted-copy quantile with linear interpolation (q in [0, 1]). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in percent: the spread of the samples around the figure reported. */
  spreadPct: number;
  samples: number[];
}

export function summarize(samples: readonly number[]): Summary {
  const median = quantile(samples, 0.5);
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  return { median, min, max, spreadPct: median === 0 ? 0 : ((max - min) / median) * 100, samples: [...samples] };
}

/** Sorted percentiles of a large sample set, without copying it more than once. */
export function percentiles(values: Float64Array | number[], qs: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return qs.map((q) => {
    if (sorted.length === 0) return NaN;
    const pos = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[pos]!;
  });
}

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(Math.max(0, digits - 1));
  return n.toFixed(digits);
}

export function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 2 : 1) + ' MiB';
}

export function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1) + ' KiB';
}
