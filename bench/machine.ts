/** What the figures were measured on: written at the top of BENCHMARKS.md. */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: string;
  os: string;
  node: string;
  commit: string;
}

/** `node`: the Node.js the agent and the baselines run on. */
export function describeMachine(root: string, node: string): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: (totalmem() / 1024 ** 3).toFixed(1),
    os: `Linux ${release()}`,
    node: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim(),
    commit: gitCommit(root),
  };
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

function gitCommit(root: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
    return dirty.trim() === '' ? head : `${head} (with uncommitted changes)`;
  } catch {
    return 'unknown';
  }
}
