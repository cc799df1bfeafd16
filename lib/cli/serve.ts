import type { CliIo } from './main.js';

/** Placeholder until the HTTP API lands (issue: the `_inference` HTTP API). */
export async function serve(_args: string[], io: CliIo): Promise<number> {
  io.stderr.write('inference-stream: serve is not available yet\n');
  return 1;
}
