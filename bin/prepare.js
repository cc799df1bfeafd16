// `npm install` / `npm ci` / `npm pack` run this (the `prepare` script): it compiles lib/ to dist/.
//
// With dev dependencies installed it runs the project's own tsc. A production install from a
// clone (`npm ci --omit=dev`) has no compiler in node_modules: then typescript and @types/node
// are fetched at exactly the lockfile's versions with `npm exec` (into npm's cache, not into
// node_modules) and lib/ is compiled without type checking (the other type packages are dev
// dependencies too; types are checked by `npm test` and CI, and the emitted files are the same).
// A registry install never runs this: the published package already holds dist/.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = ['-p', join(root, 'tsconfig.build.json')];

function installed(name) {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

function tsc(tscPath, extra = []) {
  execFileSync(process.execPath, [tscPath, ...args, ...extra], { cwd: root, stdio: 'inherit' });
}

if (process.argv[2] === '--with-fetched-compiler') {
  // Inside `npm exec`: the fetched packages' .bin directory is on PATH; their @types sit beside it.
  const bin = (process.env.PATH ?? '').split(delimiter).find((dir) => {
    try {
      return readFileSync(join(dir, '..', 'typescript', 'package.json'), 'utf8').length > 0;
    } catch {
      return false;
    }
  });
  if (!bin) throw new Error('prepare: npm exec did not provide typescript');
  tsc(join(bin, '..', 'typescript', 'bin', 'tsc'), ['--typeRoots', join(bin, '..', '@types'), '--noCheck']);
} else if (installed('typescript') && installed('@types/node')) {
  tsc(require.resolve('typescript/bin/tsc'));
} else {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const packages = ['typescript', '@types/node'].map((name) => {
    const version = lock.packages?.[`node_modules/${name}`]?.version;
    if (!version) throw new Error(`prepare: ${name} is not in package-lock.json`);
    return `--package=${name}@${version}`;
  });
  process.stderr.write(
    'prepare: no compiler in node_modules (production install); building with the locked typescript via npm exec\n',
  );
  const npm = process.env.npm_execpath;
  const command = npm ? [process.execPath, npm] : ['npm'];
  execFileSync(
    command[0],
    [
      ...command.slice(1),
      'exec',
      '--yes',
      ...packages,
      '--',
      'node',
      fileURLToPath(import.meta.url),
      '--with-fetched-compiler',
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
