import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockStateDir } from '../../src/agent/state-lock.js';
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
});
