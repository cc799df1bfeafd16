#!/usr/bin/env node
import { main } from '../dist/lib/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // a finished command exits even if a library left a handle open (the server's close is already done)
    setTimeout(() => process.exit(code), 250).unref();
  },
  (err) => {
    process.stderr.write(`inference-stream: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
