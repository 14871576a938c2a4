import { describe, expect, it } from 'vitest';
import { Persistence, type CheckpointFile, type JournalFile } from '../../src/agent/persistence.js';
import type { Checkpoint } from '../../src/journal/checkpoint.js';
import { Journal } from '../../src/journal/journal.js';
import { initialTrackerState } from '../../src/track/tracker.js';
import { fixtureJournal } from '../helpers/journal.js';

/** Files that record what was done to them, in order. */
function recordingFiles(): { calls: string[]; journalFile: JournalFile; checkpointFile: CheckpointFile } {
  const calls: string[] = [];
  return {
    calls,
    journalFile: {
      append: (events) => void calls.push(`append ${events.map((e) => e.id).join(',')}`),
      sync: () => void calls.push('sync'),
      maybeCompact: () => false,
    },
    checkpointFile: { write: (c) => void calls.push(`checkpoint next=${c.tracker.nextEventId}`) },
  };
}

const checkpoint = (position: Checkpoint['position'] = null): Checkpoint => ({
  path: 'p.log',
  position,
  knownCopies: [],
  tracker: initialTrackerState(4),
  events: [],
});
const marks = { headLength: 0, content: 0, copiesRead: 0 };

describe('Persistence', () => {
  const events = fixtureJournal(['backup-then-restore.log']).journal.all().slice(0, 3);

  it('fsyncs the journal before every checkpoint', () => {
    const { calls, journalFile, checkpointFile } = recordingFiles();
    const p = new Persistence(journalFile, checkpointFile);
    p.append(events, new Journal({ maxEvents: 10 }));
    p.checkpoint(checkpoint(), marks);
    expect(calls).toEqual(['append 1,2,3', 'sync', 'checkpoint next=4']);
    expect(p.counters.checkpoints).toBe(1);
  });

  it('is dirty from a change until the next checkpoint', () => {
    const { journalFile, checkpointFile } = recordingFiles();
    const p = new Persistence(journalFile, checkpointFile);
    expect(p.dirty).toBe(false);
    p.touch();
    expect(p.dirty).toBe(true);
    p.checkpoint(checkpoint(), marks);
    expect(p.dirty).toBe(false);
  });

  it('wants a checkpoint after a check that was asked for one, read a new file head, or read a rotated copy', () => {
    const { journalFile, checkpointFile } = recordingFiles();
    const p = new Persistence(journalFile, checkpointFile);
    expect(p.wantedAfterCheck(marks)).toBe(false);
    p.defer();
    expect(p.wantedAfterCheck(marks)).toBe(true);
    const position = { identity: { dev: 1, ino: 1 }, head: Buffer.from('I, ['), tail: Buffer.alloc(0), offset: 4 };
    p.checkpoint(checkpoint(position), { headLength: 4, content: 1, copiesRead: 0 });
    expect(p.wantedAfterCheck({ headLength: 4, content: 1, copiesRead: 0 })).toBe(false);
    expect(p.wantedAfterCheck({ headLength: 4, content: 2, copiesRead: 0 })).toBe(true);
    expect(p.wantedAfterCheck({ headLength: 4, content: 1, copiesRead: 1 })).toBe(true);
  });
});
