import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs each backpressure scenario in its own process, so RSS belongs to that scenario alone. */

export interface MemoryRow {
  inputBytes: number;
  consumer: 'slow' | 'stall';
  ms: number;
  mbps: number;
  complete: boolean;
  outEvents: number;
  outBytes: number;
  largestEvent: number;
  peakBuffered: { writable: number; readable: number; batch: number; total: number };
  bound: { writableHighWaterMark: number; readableHighWaterMark: number; maxBatchChars: number };
  stall: null | {
    sourceBytesAtStall: number;
    sourceBytesAfterStall: number;
    bufferedWhileStalled: { writable: number; readable: number; batch: number; total: number };
    peakBufferedWhileStalled: { writable: number; readable: number; batch: number; total: number };
    sourceReadableLength: number;
    consumerWritableLength: number;
  };
  memory: { baselineRss: number; peakRss: number; rssGrowth: number; heapGrowth: number; peakExternal: number };
}

const child = fileURLToPath(new URL('./memory-child.ts', import.meta.url));

function runChild(bytes: number, consumer: string): Promise<MemoryRow> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', child, `--bytes=${bytes}`, `--consumer=${consumer}`],
      { maxBuffer: 1 << 20, timeout: 300_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`memory scenario ${bytes}/${consumer} failed: ${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as MemoryRow);
      },
    );
  });
}

export async function runMemory(opts: {
  quick: boolean;
  big: boolean;
  log: (l: string) => void;
}): Promise<MemoryRow[]> {
  const MiB = 1048576;
  const sizes = opts.quick ? [16 * MiB, 100 * MiB] : opts.big ? [100 * MiB, 1024 * MiB] : [100 * MiB];
  const rows: MemoryRow[] = [];
  for (const consumer of ['slow', 'stall'] as const) {
    for (const size of sizes) {
      const r = await runChild(size, consumer);
      const row: MemoryRow = r;
      rows.push(row);
      opts.log(
        `  ${(size / MiB).toFixed(0)} MiB, ${consumer} consumer: ${row.mbps.toFixed(1)} MB/s, peak buffered ${row.peakBuffered.total} B, RSS +${(row.memory.rssGrowth / MiB).toFixed(1)} MiB${row.complete ? '' : ' — INCOMPLETE OUTPUT'}`,
      );
    }
  }
  return rows;
}
