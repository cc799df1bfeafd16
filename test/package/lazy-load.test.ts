// Importing the package and streaming an OpenAI body loads no provider-specific dependency:
// google-auth-library, @smithy/* (SigV4, AWS event-stream codec) and undici load only when a
// request or a framing needs them. Runs the built package (dist/, built by `npm test`) in a
// fresh node that records every module it loads.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bedrockEventStream, tokens } from '../../bench/lib/data.js';
import { settingsFor } from '../server/helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const recorder = fileURLToPath(new URL('./record-modules.mjs', import.meta.url));

/** Runs `body` (an ES module script, `lib` bound to the package root) and returns the package paths it loaded. */
async function loadedBy(body: string): Promise<{ packages: string[]; output: string }> {
  const script = `
    const lib = await import(${JSON.stringify(root + 'dist/lib/index.js')});
    const stages = () => import(${JSON.stringify(root + 'dist/lib/stages.js')});
    let output = '';
    ${body}
    const loaded = await globalThis.loadedModules();
    process.stdout.write(JSON.stringify({ output, loaded }));
  `;
  const { stdout } = await run(process.execPath, ['--import', recorder, '--input-type=module', '-e', script], {
    cwd: root,
  });
  const { output, loaded } = JSON.parse(stdout) as { output: string; loaded: string[] };
  const packages = new Set<string>();
  for (const path of loaded) {
    const m = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(path);
    if (m) packages.add(m[1]!.replace('\\', '/'));
  }
  return { packages: [...packages].sort(), output };
}

const STREAM_OPENAI = `
  const s = lib.completionStream('openai');
  s.on('data', (b) => (output += b));
  s.end(Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\\n\\ndata: [DONE]\\n\\n'));
  await new Promise((resolve) => s.on('end', resolve));
`;

describe('lazy loading', () => {
  test('import the root and stream an OpenAI body: no google-auth-library, no @smithy, no undici', async () => {
    const { packages, output } = await loadedBy(STREAM_OPENAI);
    assert.equal(output, 'event: message\ndata: {"completion":[{"delta":"Hi"}]}\n\nevent: message\ndata: [DONE]\n\n');
    assert.deepEqual(packages, [], `packages loaded: ${packages.join(', ')}`);
  });

  test('the recorder sees what a framing or a request does load (the check above can fail)', async () => {
    const frames = Buffer.concat(bedrockEventStream(tokens(3)).events);
    const bedrock = await loadedBy(`
      const s = lib.deltaStream('amazonbedrock', { contentType: 'application/vnd.amazon.eventstream' });
      s.on('data', (d) => (output += d.delta ?? ''));
      s.end(Buffer.from(${JSON.stringify(frames.toString('base64'))}, 'base64'));
      await new Promise((resolve) => s.on('end', resolve));
    `);
    assert.ok(bedrock.output.length > 0, 'Bedrock frames decoded');
    assert.ok(bedrock.packages.includes('@smithy/core'), `AWS frames load the codec: ${bedrock.packages.join(', ')}`);
    assert.ok(!bedrock.packages.includes('google-auth-library'));

    const endpoint = {
      inference_id: 'v',
      task_type: 'completion',
      service: 'googlevertexai',
      service_settings: settingsFor('googlevertexai', 'http://127.0.0.1:9'),
      task_settings: {},
    };
    const vertex = await loadedBy(`
      const { ProviderClient } = await stages();
      const req = await new ProviderClient().build(${JSON.stringify(endpoint)}, 'Hi');
      output = req.headers.authorization.slice(0, 7);
      await (await stages()).closeSharedAgent();
    `);
    assert.equal(vertex.output, 'Bearer ');
    assert.ok(
      vertex.packages.includes('google-auth-library'),
      `a Vertex AI request loads Google auth: ${vertex.packages.join(', ')}`,
    );
    assert.ok(vertex.packages.includes('undici'));
    assert.ok(!vertex.packages.some((p) => p.startsWith('@smithy/')), 'but not the AWS signer');
  });
});
