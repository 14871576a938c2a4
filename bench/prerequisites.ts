/**
 * Checks for the parts of the agent a scenario needs, so that the suite runs on
 * any checkout and says why a scenario was left out instead of failing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './scenario.js';

/** Null when `restore-watcher NAME --help` succeeds; otherwise why the scenario cannot run. */
export async function commandMissing(ctx: BenchContext, name: string): Promise<string | null> {
  const code = await new Promise<number | null>((resolve) => {
    const child = execFile(ctx.node, [ctx.bin, name, '--help'], { timeout: 20_000 }, (err) =>
      resolve(err === null ? 0 : typeof err.code === 'number' ? err.code : null),
    );
    child.stdin?.end();
  });
  return code === 0 ? null : `restore-watcher has no \`${name}\` command yet (\`${name} --help\` exited ${code})`;
}

/** Null when the built module exists under dist/; otherwise why the scenario cannot run. */
export function moduleMissing(ctx: BenchContext, relativePath: string, what: string): string | null {
  return existsSync(join(ctx.root, 'dist', relativePath)) ? null : `${what} (dist/${relativePath}) is not built yet`;
}
