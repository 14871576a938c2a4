import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { appendRubyLog, backupSteps, haveRubyRack, restoreSteps } from '../helpers/ruby-log.js';
import { serviceForTest } from '../helpers/service.js';
import { SLOW, startWatch } from '../helpers/watch.js';

const at = (iso: string): Date => new Date(iso);
const B1 = at('2018-11-22T04:00:15Z');
const B1_ID = `a9s-pg-${B1.getTime() + 350}`;

describe.skipIf(!haveRubyRack())('a restore of a named backup with backups after it', () => {
  it('lists the later backups as no longer known, in /restores/:id, /metrics, watch and replay', async () => {
    const service = await serviceForTest();
    await appendRubyLog(service.logPath, [
      ...backupSteps(B1, 75),
      ...backupSteps(at('2018-11-22T05:00:00Z'), 60),
      ...backupSteps(at('2018-11-22T06:00:00Z'), 30, 'failure'),
    ]);
    // The failed backup's verdict waits for the failure grace; the restore's lines, hours later, settle it.
    await expect.poll(() => service.agent.journal.operations('backup').length, SLOW).toBe(3);

    const run = startWatch(['--url', service.url, '--until-done']);
    await expect.poll(() => service.server.streams.size, SLOW).toBe(1);
    await appendRubyLog(service.logPath, [...restoreSteps(at('2018-11-22T09:30:00Z'), 150, B1_ID), ...backupSteps(at('2018-11-22T10:00:00Z'), 60)]);
    const w = await run.child;
    expect(w.exitCode).toBe(0);

    const restoreId = 'restore-20181122T093000Z';
    const res = await service.server.app.inject({ url: `/restores/${restoreId}` });
    const body = res.json<{ forgottenBackups: unknown[]; forgotten: Record<string, unknown> }>();
    expect(body.forgotten).toMatchObject({ basis: 'named', restoredBackupId: B1_ID, restoredPointAt: '2018-11-22T04:00:15.350Z' });
    expect(body.forgottenBackups).toEqual([
      {
        operationId: 'backup-20181122T050000Z',
        backupId: `a9s-pg-${Date.parse('2018-11-22T05:00:00Z') + 350}`,
        requestedAt: '2018-11-22T05:00:00.000Z',
        finishedAt: '2018-11-22T05:01:00.000Z',
        state: 'succeeded',
      },
      {
        operationId: 'backup-20181122T060000Z',
        backupId: `a9s-pg-${Date.parse('2018-11-22T06:00:00Z') + 350}`,
        requestedAt: '2018-11-22T06:00:00.000Z',
        finishedAt: '2018-11-22T06:00:30.000Z',
        state: 'failed',
      },
    ]);

    const metrics = (await service.server.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('restore_watcher_latest_restore_forgotten_backups{basis="named"} 2');

    // watch says it before it exits, after the outcome.
    expect(run.stderr()).toBe(
      [
        `restore-watcher: ${restoreId} succeeded in 2m30s`,
        `restore-watcher: ${restoreId} restored ${B1_ID} (created 2018-11-22T04:00:15.350Z); the 2 backups made after it are no longer known to the Backup Manager`,
        '  forgotten by the Backup Manager:',
        `    a9s-pg-${Date.parse('2018-11-22T05:00:00Z') + 350}     succeeded  requested 2018-11-22 05:00:00Z, finished 2018-11-22 05:01:00Z`,
        `    a9s-pg-${Date.parse('2018-11-22T06:00:00Z') + 350}     failed     requested 2018-11-22 06:00:00Z, finished 2018-11-22 06:00:30Z`,
        '',
      ].join('\n'),
    );

    const replay = await cli(['replay', service.logPath]);
    expect(replay.exitCode).toBe(0);
    const summary = String(replay.stdout).slice(String(replay.stdout).lastIndexOf('\n\n'));
    expect(summary).toContain(`${restoreId} restored ${B1_ID}`);
    // Under the restore, the backups it made forgotten: not the one after it.
    expect(summary.split('\n').filter((l) => /^ {8}a9s-pg-/.test(l)).map((l) => l.trim().split(/ +/).slice(0, 2))).toEqual([
      [`a9s-pg-${Date.parse('2018-11-22T05:00:00Z') + 350}`, 'succeeded'],
      [`a9s-pg-${Date.parse('2018-11-22T06:00:00Z') + 350}`, 'failed'],
    ]);
  });
});
