// The README's `npx inference-stream`: in the repository, the real npx (offline: nothing is
// fetched) finds this package's own command. Here rather than in the README test, whose blocks
// run the bin directly: npm's start-up reads the whole dependency tree, seconds on a busy machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test("in the repository, the real npx finds this package's command (offline)", async () => {
  const { version } = JSON.parse(readFileSync(new URL('package.json', `file://${root}`), 'utf8')) as {
    version: string;
  };
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      'npx',
      ['inference-stream', '--version'],
      {
        cwd: root,
        env: {
          ...process.env,
          npm_config_offline: 'true',
          npm_config_update_notifier: 'false',
          npm_config_fund: 'false',
          npm_config_audit: 'false',
        },
      },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
  assert.equal(out, `${version}\n`);
});
