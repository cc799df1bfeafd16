// Loaded with `node --import`: records every module the process loads, ES modules through a
// resolve hook (it runs on the loader thread and posts each URL here) and CommonJS modules
// from require's cache. `globalThis.loadedModules()` returns both lists.
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const resolved = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => resolved.add(url));
port1.unref();
register('./record-modules-hooks.mjs', { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });

const require = createRequire(import.meta.url);
globalThis.loadedModules = async () => {
  // the hook thread posts before each import completes; one turn lets the last posts land
  await new Promise((resolve) => setImmediate(resolve));
  return [...resolved, ...Object.keys(require.cache)];
};
