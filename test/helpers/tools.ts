import { execFileSync } from 'node:child_process';
import { BIN } from './cli.js';

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

/**
 * Whether user nobody (which tests run the agent as, through setpriv, to meet
 * permission faults as root) can read this checkout's command: a checkout below a
 * directory others may not enter (`mktemp -d` makes them 0700) cannot be run so.
 * Where it cannot, those tests skip saying why, and under CI=true fail instead.
 */
export function nobodyReachesCheckout(): boolean {
  if (process.getuid?.() !== 0) return true;
  if (!haveTool('setpriv', 'util-linux')) return false;
  try {
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', BIN], { stdio: 'ignore' });
    return true;
  } catch {
    const message = `user nobody cannot read ${BIN}: a directory above the checkout is closed to others (chmod o+x it, or clone elsewhere)`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a skipped test fails the run)`);
    console.warn(`skipping tests that run the agent as nobody: ${message}`);
    return false;
  }
}
