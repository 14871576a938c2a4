import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { startService, type RunningService } from '../../src/service.js';
import { cli, fixture } from '../helpers/cli.js';
import { SLOW } from '../helpers/watch.js';

let service: RunningService | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

/** The agent on a copy of a corpus log, its wall clock at `now` (the log's own time), every line read. */
async function agentOn(name: string, now = Date.now()): Promise<RunningService> {
  const dir = mkdtempSync(join(tmpdir(), 'rw-corpus-'));
  const log = join(dir, 'production.log');
  copyFileSync(fixture(`corpus/${name}.log`), log);
  const config = parseConfig({ log: { path: log, pollIntervalMs: 50 }, http: { host: '127.0.0.1', port: 0 }, stateDir: join(dir, 'state') });
  service = await startService(config, { logger: pino({ level: 'silent' }), now: () => now });
  return service;
}

const json = async <T>(s: RunningService, url: string): Promise<T> => (await s.server.app.inject({ url, headers: { accept: 'application/json' } })).json<T>();

interface RestoreAnswer {
  restore: { state: string };
  forgottenBackups?: { backupId?: string; state: string }[];
  forgotten?: { basis: string; restoredBackupId: string | null; decision: string };
}

describe('after a restore, on logs the corpus generator made with the real Ruby libraries', () => {
  it('restore-named-backup-with-later-backups: the two later nightly backups are no longer known', async () => {
    const s = await agentOn('restore-named-backup-with-later-backups');
    await expect.poll(async () => (await json<RestoreAnswer>(s, '/restores/restore-20181122T093000Z')).restore?.state, SLOW).toBe('succeeded');
    const r = await json<RestoreAnswer>(s, '/restores/restore-20181122T093000Z');
    expect(r.forgotten).toMatchObject({ basis: 'named', restoredBackupId: 'a9s-pg-1542679200123' });
    expect(r.forgottenBackups?.map((b) => [b.backupId, b.state])).toEqual([
      ['a9s-pg-1542765600234', 'succeeded'],
      ['a9s-pg-1542852000345', 'succeeded'],
    ]);
    // curl's screen says it too.
    const text = (await s.server.app.inject({ url: '/' })).body;
    expect(text).toContain(
      [
        'forgotten     2 backups made after a9s-pg-1542679200123 no longer known to the Backup Manager',
        '  a9s-pg-1542765600234     succeeded  requested 2018-11-21 02:00:00Z, finished 2018-11-21 02:01:02Z',
        '  a9s-pg-1542852000345     succeeded  requested 2018-11-22 02:00:00Z, finished 2018-11-22 02:01:09Z',
      ].join('\n'),
    );
    const replay = await cli(['replay', fixture('corpus/restore-named-backup-with-later-backups.log')]);
    expect(String(replay.stdout)).toContain(
      'restore-20181122T093000Z restored a9s-pg-1542679200123 (created 2018-11-20T02:00:00.123Z); the 2 backups made after it are no longer known to the Backup Manager',
    );
  });

  it('restore-unnamed-backup: the restored backup cannot be identified; the three nightly backups are the candidates', async () => {
    const s = await agentOn('restore-unnamed-backup');
    await expect.poll(async () => (await json<RestoreAnswer>(s, '/restores/restore-20181122T093000Z')).restore?.state, SLOW).toBe('succeeded');
    const r = await json<RestoreAnswer>(s, '/restores/restore-20181122T093000Z');
    expect(r.forgotten?.basis).toBe('unidentified');
    expect(r.forgotten?.restoredBackupId).toBeNull();
    expect(r.forgotten?.decision).toContain('the restored backup could not be identified');
    // Not the latest by default: each is listed, with what follows if it was the one.
    expect(r.forgottenBackups?.map((b) => b.backupId)).toEqual(['a9s-pg-1542679200123', 'a9s-pg-1542765600234', 'a9s-pg-1542852000345']);
    expect(r.forgotten?.decision).toContain('if the newest (a9s-pg-1542852000345) was restored, none is forgotten');
  });

  it('restore-history: the running restore has ~3 min left, the median of the three earlier ones from its phase on', async () => {
    // 15 s after the request, as when the log ends. Each restore logs "Restoring backup" 5.1 s after its
    // request: the earlier ones took 40.25 s, 2m55.5s and 11m55.75s from there; this one 9.9 s so far.
    const s = await agentOn('restore-history', Date.parse('2018-11-22T10:00:15Z'));
    await expect.poll(async () => (await json<{ restore: { id: string } | null }>(s, '/status')).restore?.id, SLOW).toBe('restore-20181122T100000Z');
    const status = await json<{ latestRestore: { estimate: Record<string, unknown> | null } }>(s, '/status');
    expect(status.latestRestore.estimate).toEqual({
      remainingMs: 165_600,
      overdue: false,
      basis: 'phase',
      phase: 'restore',
      from: 3,
      medianMs: 175_500,
      text: '~3 min left, from 3 earlier restores with a restore phase',
    });
    const metrics = (await s.server.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('restore_watcher_latest_restore_remaining_seconds{basis="phase"} 165.6');
    expect(metrics).toContain('restore_watcher_latest_restore_current_phase{phase="restore"} 1');
    const text = (await s.server.app.inject({ url: '/' })).body;
    expect(text).toContain('phases        restore 10s\ntime left     ~3 min left, from 3 earlier restores with a restore phase\n');
  });
});
