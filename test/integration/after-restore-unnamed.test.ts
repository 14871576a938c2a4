import { describe, expect, it } from 'vitest';
import { appendRubyLog, backupSteps, haveRubyRack, restoreSteps } from '../helpers/ruby-log.js';
import { serviceForTest } from '../helpers/service.js';
import { SLOW } from '../helpers/watch.js';

const at = (iso: string): Date => new Date(iso);

describe.skipIf(!haveRubyRack())('a restore whose records name no backup', () => {
  it('says the restored backup could not be identified and lists the backups since the previous restore', async () => {
    const service = await serviceForTest();
    await appendRubyLog(service.logPath, [
      ...backupSteps(at('2018-11-22T01:00:00Z'), 60),
      ...restoreSteps(at('2018-11-22T02:00:00Z'), 120, null),
      ...backupSteps(at('2018-11-22T04:00:00Z'), 60),
      ...backupSteps(at('2018-11-22T05:00:00Z'), 60, 'failure'),
      ...backupSteps(at('2018-11-22T06:00:00Z'), 60),
      ...restoreSteps(at('2018-11-22T09:30:00Z'), 150, null),
    ]);
    await expect.poll(() => service.agent.journal.latest('restore')?.state, SLOW).toBe('succeeded');
    await expect.poll(() => service.agent.journal.operations('restore').length, SLOW).toBe(2);

    const body = (await service.server.app.inject({ url: '/restores/restore-20181122T093000Z' })).json<{
      forgottenBackups: { operationId: string; backupId?: string; state: string }[];
      forgotten: { basis: string; restoredBackupId: string | null; decision: string };
    }>();
    expect(body.forgotten.basis).toBe('unidentified');
    expect(body.forgotten.restoredBackupId).toBeNull();
    // The failed backup is no candidate; the backup before the previous restore is not either.
    expect(body.forgottenBackups.map((b) => [b.operationId, b.state])).toEqual([
      ['backup-20181122T040000Z', 'succeeded'],
      ['backup-20181122T060000Z', 'succeeded'],
    ]);
    expect(body.forgottenBackups[1]!.backupId).toBe(`a9s-pg-${Date.parse('2018-11-22T06:00:00Z') + 350}`);
    expect(body.forgotten.decision).toContain('the restored backup could not be identified');
    expect(body.forgotten.decision).toContain('since restore-20181122T020000Z');

    const status = (await service.server.app.inject({ url: '/status', headers: { accept: 'application/json' } })).json<{
      latestRestore: { restoreId: string; forgotten: { basis: string } };
    }>();
    expect(status.latestRestore.restoreId).toBe('restore-20181122T093000Z');
    expect(status.latestRestore.forgotten.basis).toBe('unidentified');
  });
});
