import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  v8: string;
  platform: string;
  commit: string;
  dirty: boolean;
  /** lib/ files that differed from the commit when the numbers were taken. */
  dirtyFiles: string[];
  date: string;
}

function git(args: string[]): string {
  try {
    // trimEnd only: porcelain lines start with a status column that may be a space.
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const dirtyFiles = git(['status', '--porcelain', '--', 'lib'])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3));
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit: git(['rev-parse', '--short=12', 'HEAD']) || 'unknown',
    // lib/ changes not committed would make the numbers belong to no commit.
    dirty: dirtyFiles.length > 0,
    dirtyFiles,
    date: new Date().toISOString(),
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM; Node ${m.node} (V8 ${m.v8}); ${m.platform}; commit ${m.commit}${m.dirty ? ` (lib/ modified: ${m.dirtyFiles.join(', ')})` : ''}; ${m.date}`;
}
