import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

/** The built command line, as an operator runs it (npm test builds first). */
export const BIN = fileURLToPath(new URL('../../bin/restore-watcher.js', import.meta.url));
export const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

export function cli(args: string[], options: Options = {}) {
  return execa(process.execPath, [BIN, ...args], { reject: false, ...options });
}
