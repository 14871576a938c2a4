import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { access } from '../helpers/lines.js';
import { serviceForTest } from '../helpers/service.js';

describe('starting before the log exists', () => {
  it('says it is waiting, then follows the file from its first byte when it appears', async () => {
    const service = await serviceForTest();
    const health = await (await fetch(`${service.url}/healthz`)).json();
    expect(health).toEqual({ ok: true, state: 'waiting-for-log', logExists: false });
    const status = (await (await fetch(`${service.url}/status`)).json()) as Record<string, any>;
    expect(status.state).toBe('waiting-for-log');
    expect(status.follower).toMatchObject({ path: service.logPath, exists: false, offset: 0, linesRead: 0 });

    writeFileSync(service.logPath, `${access('12:00:00', '/v1/restore')}\n`);
    await expect.poll(async () => ((await (await fetch(`${service.url}/status`)).json()) as { state: string }).state).toBe('restore-requested');
    const after = (await (await fetch(`${service.url}/status`)).json()) as Record<string, any>;
    expect(after.follower).toMatchObject({ exists: true, linesRead: 1 });
    expect(after.restore).toMatchObject({ id: 'restore-20181120T120000Z', state: 'requested' });
  });

  it('waits for a log directory that does not exist yet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-test-'));
    const nested = join(dir, 'backup-agent');
    const service = await serviceForTest({ log: { path: join(nested, 'production.log') } }, { dir });
    expect(service.agent.status().follower.exists).toBe(false);
    mkdirSync(nested);
    writeFileSync(join(nested, 'production.log'), `${access('12:00:00', '/v1/restore')}\n`);
    await expect.poll(() => service.agent.status().lastEventId).toBe(1);
  });
});
