// Importing the package and streaming an OpenAI or a Bedrock body loads no provider-specific
// dependency: google-auth-library, @smithy/* (the SigV4 signer) and undici load only when a
// request needs them; AWS event-stream frames are read without any of them. Runs the built package (dist/, built by `npm test`) in a
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

function endpointFor(service: string) {
  return {
    inference_id: 'x',
    task_type: 'completion',
    service,
    service_settings: settingsFor(service, 'http://127.0.0.1:9'),
    task_settings: {},
  };
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

  test('stream a Bedrock body (AWS event-stream frames): no @smithy, no other package', async () => {
    const stream = bedrockEventStream(tokens(3));
    const frames = Buffer.concat(stream.events);
    const bedrock = await loadedBy(`
      const s = lib.deltaStream('amazonbedrock', { contentType: 'application/vnd.amazon.eventstream' });
      s.on('data', (d) => (output += d.delta ?? ''));
      s.end(Buffer.from(${JSON.stringify(frames.toString('base64'))}, 'base64'));
      await new Promise((resolve) => s.on('end', resolve));
    `);
    assert.equal(bedrock.output, tokens(3).join(''), 'Bedrock frames decoded');
    assert.deepEqual(bedrock.packages, [], `packages loaded: ${bedrock.packages.join(', ')}`);
  });

  test('the recorder sees what a request does load (the checks above can fail)', async () => {
    const signed = await loadedBy(`
      const { ProviderClient } = await stages();
      const req = await new ProviderClient().build(${JSON.stringify(endpointFor('amazonbedrock'))}, 'Hi');
      output = req.headers.authorization.slice(0, 16);
      await (await stages()).closeSharedAgent();
    `);
    assert.equal(signed.output, 'AWS4-HMAC-SHA256');
    assert.ok(
      signed.packages.includes('@smithy/signature-v4'),
      `a Bedrock request loads the SigV4 signer: ${signed.packages.join(', ')}`,
    );
    assert.ok(!signed.packages.includes('google-auth-library'));

    const vertex = await loadedBy(`
      const { ProviderClient } = await stages();
      const req = await new ProviderClient().build(${JSON.stringify(endpointFor('googlevertexai'))}, 'Hi');
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
