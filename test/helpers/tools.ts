import { execFileSync } from 'node:child_process';

/**
 * Whether a Debian tool a test needs is installed. Tests that need one use the
 * real tool; where it is missing they skip with a message naming the package, and
 * under CI=true (where .ci/run installs it) a missing tool is a failure instead.
 * Use as: `describe.skipIf(!haveTool('logrotate', 'logrotate'))(...)`.
 */
export function haveTool(command: string, debianPackage: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    const message = `${command} is not installed: apt-get install ${debianPackage}`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing tool fails the run)`);
    console.warn(`skipping tests that need ${message}`);
    return false;
  }
}
