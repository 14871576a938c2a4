import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockStateDir, StateDirKeeper } from '../../src/agent/state-lock.js';
import { RestoreWatcherError } from '../../src/errors.js';
import { haveTool } from '../helpers/tools.js';

describe.skipIf(!haveTool('flock', 'util-linux'))('lockStateDir', () => {
  it('lets one holder have a state directory at a time, names it to the others, and lets go on release', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rw-lock-')), 'state');
    const held = await lockStateDir(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    const refused = await lockStateDir(dir).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RestoreWatcherError);
    expect(refused).toMatchObject({ code: 'RW_STATE_LOCKED', exitCode: 75 });
    expect((refused as Error).message).toContain(`(pid ${process.pid})`);
    await held.release();
    const again = await lockStateDir(dir);
    await again.release();
  });

  it('says so when the state directory cannot be made', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rw-lock-')), 'not-a-dir');
    writeFileSync(file, '');
    await expect(lockStateDir(join(file, 'state'))).rejects.toMatchObject({ code: 'RW_STATE_DIR' });
  });

  it('takes the lock again on a state directory deleted under it, unless another holder took the new one first', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rw-lock-')), 'state');
    const keeper = new StateDirKeeper(await lockStateDir(dir));
    keeper.check();
    rmSync(dir, { recursive: true });
    expect(() => keeper.check()).toThrow(/was deleted; creating it and taking its lock again/);
    await expect.poll(() => (keeper.check(), 'held'), { timeout: 5000 }).toBe('held');
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    await expect(lockStateDir(dir)).rejects.toMatchObject({ code: 'RW_STATE_LOCKED' });

    rmSync(dir, { recursive: true });
    const other = await lockStateDir(dir);
    expect(() => keeper.check()).toThrow(/was deleted/);
    await expect.poll(() => String(catchOf(() => keeper.check())), { timeout: 5000 }).toMatch(/in use by another restore-watcher/);
    await other.release();
    await expect.poll(() => catchOf(() => keeper.check()), { timeout: 5000 }).toBeNull();
    await keeper.release();
    await (await lockStateDir(dir)).release();
  });
});

function catchOf(f: () => void): unknown {
  try {
    f();
    return null;
  } catch (err) {
    return err;
  }
}
