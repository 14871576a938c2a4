/**
 * What bin/restore-watcher.cjs itself loads before the command: node:module (and
 * with it the ES module loader) only where it turns on the compile cache, Node 22.1
 * and later.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

/**
 * Node's own list of the builtin modules it loaded, and where the compile cache is
 * (Node 22.1+, else null), written by a CommonJS preload as the process exits.
 */
function startUp(args: string[]): { loaded: string[]; cacheDir: string | null } {
  const dir = tempDir('rw-bin-');
  const hook = join(dir, 'hook.cjs');
  const list = join(dir, 'loaded.json');
  writeFileSync(
    hook,
    `process.on('exit', () => {
      const loaded = [...process.moduleLoadList];
      const cacheDir = require('node:module').getCompileCacheDir?.() ?? null;
      require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify({ loaded, cacheDir }));
    });\n`,
  );
  const log = join(dir, 'empty.log');
  writeFileSync(log, '');
  execFileSync(process.execPath, ['--require', hook, BIN, ...args, log], { stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(list, 'utf8')) as { loaded: string[]; cacheDir: string | null };
}

describe('bin/restore-watcher.cjs', () => {
  const major = Number(process.versions.node.split('.')[0]);
  it.runIf(major < 22)('before Node 22 loads neither node:module nor the ES module loader', () => {
    const { loaded } = startUp(['replay', '--json']);
    expect(loaded).toContain('NativeModule internal/modules/cjs/loader');
    expect(loaded.filter((m) => m === 'NativeModule module' || m === 'NativeModule internal/modules/esm/loader')).toEqual([]);
  });
  it.runIf(major >= 22)('from Node 22 on turns the compile cache on', () => {
    expect(startUp(['replay', '--json']).cacheDir).toEqual(expect.any(String));
  });
});
