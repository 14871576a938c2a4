import { execa, type Options } from 'execa';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built command line, as an operator runs it (npm test builds first). */
export const BIN = fileURLToPath(new URL('../../bin/restore-watcher.cjs', import.meta.url));
export const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

export function cli(args: string[], options: Options = {}) {
  return execa(process.execPath, [BIN, ...args], { reject: false, ...options });
}

/** Every log under fixtures/ and fixtures/corpus/, as paths relative to fixtures/ (`corpus/NAME.log`). */
export function fixtureLogs(): string[] {
  const logs = (dir: string): string[] => readdirSync(fixture(dir)).filter((f) => f.endsWith('.log'));
  return [...logs(''), ...logs('corpus').map((f) => `corpus/${f}`)];
}
