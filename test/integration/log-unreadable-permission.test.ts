/**
 * The log may not be read by the agent's user (mode 000): the running service
 * says `log-unreadable` with the reason in /status, logs it once while it keeps
 * looking, and reads the log once it is made readable. Root reads anything, so as
 * root the service runs as `nobody` through setpriv (util-linux).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { access } from '../helpers/lines.js';
import { waitForOutput } from '../helpers/output.js';
import { tempDir } from '../helpers/temp.js';
import { haveTool, nobodyReachesCheckout } from '../helpers/tools.js';

const AS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const SLOW = { timeout: 15_000, interval: 100 };

let child: ReturnType<typeof execa> | null = null;

afterEach(async () => {
  child?.kill('SIGTERM');
  await child?.catch(() => undefined);
  child = null;
});

interface Status {
  state: string;
  follower: { readable: boolean; error: string | null; exists: boolean };
  counters: { follower: { unreadable: number } };
}

describe.skipIf(AS_ROOT && (!haveTool('setpriv', 'util-linux') || !nobodyReachesCheckout()))('a log its user may not read', () => {
  it('gives state log-unreadable with the reason, one log line per change', async () => {
    const dir = tempDir('rw-unreadable-');
    chmodSync(dir, 0o777);
    const log = join(dir, 'production.log');
    writeFileSync(log, `${access('12:00:00', '/v1/restore')}\n`);
    chmodSync(log, 0o000);
    const serve = [BIN, 'serve', '--log', log, '--port', '0', '--state-dir', join(dir, 'state')];
    const asNobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath];
    child = AS_ROOT ? execa(asNobody[0]!, [...asNobody.slice(1), ...serve], { reject: false }) : execa(process.execPath, serve, { reject: false });
    const [, url] = await waitForOutput(child, /serving (http:\/\/127\.0\.0\.1:\d+)/);
    const status = async (): Promise<Status> => (await (await fetch(`${url}/status`)).json()) as Status;

    await expect.poll(async () => (await status()).state, SLOW).toBe('log-unreadable');
    expect((await status()).follower).toMatchObject({ exists: false, readable: false, error: `EACCES: ${log} is not readable by this user (permission denied)` });
    // Several polls later (every 250 ms by default), still one line said it.
    await expect.poll(async () => (await status()).counters.follower.unreadable, SLOW).toBeGreaterThanOrEqual(5);
    chmodSync(log, 0o644);
    await expect.poll(async () => (await status()).state, SLOW).toBe('restore-requested');
    expect((await status()).follower).toMatchObject({ exists: true, readable: true, error: null });
    child.kill('SIGTERM');
    const { stdout } = await child;
    const logged = String(stdout).split('\n').filter((l) => l.includes('log file cannot be read'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({ level: 50, path: log, reason: expect.stringMatching(/^EACCES: /) });
  });
});
