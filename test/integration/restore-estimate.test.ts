import { describe, expect, it } from 'vitest';
import { appendRubyLog, haveRubyRack, restoreSteps } from '../helpers/ruby-log.js';
import { serviceForTest } from '../helpers/service.js';
import { SLOW } from '../helpers/watch.js';

const daysAgo = (d: number): Date => new Date(Math.floor((Date.now() - d * 86_400_000) / 1000) * 1000);

interface Status {
  latestRestore: {
    restoreId: string;
    phases: { phase: string; current: boolean }[];
    estimate: { text: string; from: number; basis: string; remainingMs: number } | null;
  } | null;
}

describe.skipIf(!haveRubyRack())('the time left of a restore, from earlier restores in the journal', () => {
  it('is the median of the earlier successful restores less the time so far, with its basis; none without history', async () => {
    const service = await serviceForTest();
    const status = async (): Promise<Status> =>
      (await service.server.app.inject({ url: '/status', headers: { accept: 'application/json' } })).json<Status>();

    // The first restore has nothing to be compared with: no estimate at all.
    const firstEver = restoreSteps(daysAgo(9), 240, null);
    await appendRubyLog(service.logPath, firstEver.slice(0, -2));
    await expect.poll(async () => (await status()).latestRestore?.restoreId, SLOW).toMatch(/^restore-/);
    expect((await status()).latestRestore?.estimate).toBeNull();
    await appendRubyLog(service.logPath, firstEver.slice(-2));
    await expect.poll(() => service.agent.journal.latest('restore')?.state, SLOW).toBe('succeeded');
    const failed = daysAgo(8);
    await appendRubyLog(service.logPath, [
      ...restoreSteps(failed, null, null).slice(0, 3),
      { at: new Date(failed.getTime() + 30_000).toISOString(), log: 'could not download backup: 403 Forbidden', severity: 'ERROR' },
    ]);
    await appendRubyLog(service.logPath, [...restoreSteps(daysAgo(7), 300, null), ...restoreSteps(daysAgo(6), 600, null)]);
    await expect.poll(() => service.agent.journal.operations('restore').filter((r) => r.finishedAt !== null).length, SLOW).toBe(4);

    const now = new Date(Math.floor((Date.now() - 30_000) / 1000) * 1000);
    await appendRubyLog(service.logPath, restoreSteps(now, null, 'a9s-pg-1542859215559', 20));
    const current = `restore-${now.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
    await expect
      .poll(async () => {
        const l = (await status()).latestRestore;
        return l?.restoreId === current ? l.phases.at(-1)?.phase : undefined;
      }, SLOW)
      .toBe('restore');
    const s = await status();
    // It is in its restore phase (since "restoring base backup", 12 s after the request). The earlier
    // restores that succeeded (the 403 failed) took 204 s, 264 s and 564 s from the start of theirs:
    // median 264 s, of which 18 s and more have passed.
    expect(s.latestRestore?.phases.map((p) => [p.phase, p.current])).toEqual([
      ['download', false],
      ['restore', true],
    ]);
    expect(s.latestRestore?.estimate).toMatchObject({
      basis: 'phase',
      phase: 'restore',
      from: 3,
      medianMs: 264_000,
      text: '~4 min left, from 3 earlier restores with a restore phase',
    });
    expect(s.latestRestore!.estimate!.remainingMs).toBeLessThanOrEqual(246_000);

    const metrics = (await service.server.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('restore_watcher_latest_restore_estimate_basis_restores 3');
    expect(metrics).toContain('restore_watcher_latest_restore_current_phase{phase="restore"} 1');
    expect(metrics).toMatch(/^restore_watcher_latest_restore_phase_seconds\{phase="download"\} 7$/m);
    const remaining = Number(/restore_watcher_latest_restore_remaining_seconds\{basis="phase"\} ([\d.]+)/.exec(metrics)?.[1]);
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(246);

    // Once it ended there is nothing left to estimate.
    await appendRubyLog(service.logPath, [{ at: new Date().toISOString(), log: 'success' }]);
    await expect.poll(async () => (await status()).latestRestore?.estimate, SLOW).toBeNull();
    expect((await service.server.app.inject({ url: '/metrics' })).body).not.toContain('restore_watcher_latest_restore_remaining_seconds{');
  });
});
