#!/usr/bin/env node
import { main } from '../dist/lib/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`inference-stream: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
