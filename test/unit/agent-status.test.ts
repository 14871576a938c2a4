import { describe, expect, it } from 'vitest';
import { agentStatus, unhealthy, type StatusParts } from '../../src/agent/status.js';
import { initialTrackerState } from '../../src/track/tracker.js';
import { fixtureJournal, statusOf } from '../helpers/journal.js';

describe('agentStatus', () => {
  const { journal, pipeline } = fixtureJournal(['backup-then-restore.log']);
  const reference = statusOf(journal, pipeline);
  const parts = (over: Partial<StatusParts> = {}): StatusParts => ({
    tracker: initialTrackerState(),
    follower: { path: 'production.log', exists: true, readable: true, error: null, offset: 0, identity: null },
    followerCounters: reference.counters.follower,
    pipelineCounters: pipeline.counters,
    journal,
    caughtUp: true,
    eventCounts: reference.counters.events,
    persistence: reference.counters.persistence,
    health: { ok: true, error: null, since: null },
    readError: null,
    ...over,
  });

  it('reports the journal and the latest operations', () => {
    const s = agentStatus(parts());
    expect(s.state).toBe('idle');
    expect(s.lastEventId).toBe(journal.lastId);
    expect(s.restore).toEqual(journal.latest('restore'));
    expect(s.backup).toEqual(journal.latest('backup'));
    expect(s.journal).toEqual({ events: journal.size, firstId: 1, dropped: 0 });
  });

  it('is unhealthy while state does not reach the disk or the log cannot be read', () => {
    expect(unhealthy(agentStatus(parts()))).toBeNull();
    const full = agentStatus(parts({ health: { ok: false, error: 'ENOSPC: no space left', since: '2026-01-01T00:00:00.000Z' } }));
    expect(full.persistence.ok).toBe(false);
    expect(unhealthy(full)).toMatch(/ENOSPC/);
    expect(unhealthy(agentStatus(parts({ readError: 'EIO' })))).toMatch(/log not readable: EIO/);
  });

  it('says waiting-for-log when the file is not there, and the active operation otherwise', () => {
    expect(agentStatus(parts({ follower: { path: 'p', exists: false, readable: true, error: null, offset: 0, identity: null } })).state).toBe('waiting-for-log');
    const op = journal.latest('restore')!;
    const tracker = { ...initialTrackerState(), active: { op: { ...op, state: 'running' as const } } } as unknown as StatusParts['tracker'];
    expect(agentStatus(parts({ tracker })).state).toBe('restore-running');
  });
});
