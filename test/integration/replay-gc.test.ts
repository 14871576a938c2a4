/**
 * replay has V8 make its minor collections on the main thread once it has output to
 * write (replay.ts says why): the flag it sets is seen by a preload that wraps node:v8.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PRELOAD = join(ROOT, 'test/helpers/v8-flags-trace.cjs');

/** Runs `restore-watcher ARGS` with stdout and stderr read through pipes; what they said and the V8 flags it set. */
function replayWithTrace(args: string[]): { stdout: string; stderr: string; flags: string[] } {
  const trace = join(tempDir('rw-v8-flags-'), 'flags.txt');
  writeFileSync(trace, '');
  const run = spawnSync(process.execPath, ['--require', PRELOAD, BIN, ...args], {
    env: { ...process.env, V8_FLAGS_TRACE_FILE: trace },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(run.status).toBe(0);
  return { stdout: run.stdout, stderr: run.stderr, flags: readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '') };
}

describe('replay and the garbage collector', () => {
  const log = join(ROOT, 'fixtures/backup-then-restore.log');

  it('turns parallel scavenging off once it writes', () => {
    const traced = replayWithTrace(['replay', '--json', log]);
    expect(traced.stdout).not.toBe('');
    expect(traced.flags).toEqual(['--no-parallel-scavenge']);
    // V8 writes to stderr a flag it does not know: this Node knows this one.
    expect(traced.stderr).toBe('');
  });

  it('sets no flag when it has nothing to print', () => {
    const empty = join(tempDir('rw-v8-flags-'), 'empty.log');
    writeFileSync(empty, '');
    const traced = replayWithTrace(['replay', '--json', empty]);
    expect(traced.stdout).toBe('');
    expect(traced.flags).toEqual([]);
  });
});
