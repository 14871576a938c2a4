import { describe, expect, it } from 'vitest';
import { Persistence, type CheckpointFile, type JournalFile } from '../../src/agent/persistence.js';
import type { Checkpoint } from '../../src/journal/checkpoint.js';
import { Journal } from '../../src/journal/journal.js';
import type { LoadedJournal } from '../../src/journal/store.js';
import { initialTrackerState } from '../../src/track/tracker.js';
import { fixtureJournal } from '../helpers/journal.js';

const noLoad: Omit<LoadedJournal, 'events'> = {
  dropped: 0,
  operations: [],
  tornBytes: 0,
  lostIds: [],
  skippedLines: 0,
  unusable: null,
  migrated: false,
  writeError: null,
};

/**
 * Files that record what was done to them, in order, and refuse writes while
 * `refuse` is set. `store.failed` is the journal store's own report of a write it
 * could not make (it then holds the events in memory until `retry()`).
 */
function recordingFiles(): {
  calls: string[];
  refuse: { error: NodeJS.ErrnoException | null };
  store: { failed: NodeJS.ErrnoException | null };
  journalFile: JournalFile;
  checkpointFile: CheckpointFile;
} {
  const calls: string[] = [];
  const refuse: { error: NodeJS.ErrnoException | null } = { error: null };
  const store: { failed: NodeJS.ErrnoException | null } = { failed: null };
  const doing = (what: string): void => {
    if (refuse.error !== null) {
      calls.push(`refused ${what}`);
      throw refuse.error;
    }
    calls.push(what);
  };
  return {
    calls,
    refuse,
    store,
    journalFile: {
      file: 'events.jsonl',
      loadInto: () => noLoad,
      get writeError() {
        return store.failed;
      },
      retry: () => {
        if (store.failed === null) return 0;
        doing('write what was held');
        store.failed = null;
        return 0;
      },
      sync: () => doing('sync'),
      maybeCompact: () => false,
    },
    checkpointFile: {
      file: 'checkpoint.json',
      load: () => ({ kind: 'none' }),
      write: (c) => doing(`checkpoint next=${c.tracker.nextEventId}`),
    },
  };
}

function recordingLogger(): { lines: string[]; logger: ConstructorParameters<typeof Persistence>[2]['logger'] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: unknown, msg: string) => void lines.push(`${level}: ${msg}`);
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } as never };
}

const checkpoint = (position: Checkpoint['position'] = null, next = 4): Checkpoint => ({
  path: 'p.log',
  position,
  knownCopies: [],
  tracker: initialTrackerState(next),
  zone: null,
  events: [],
});
const marks = { headLength: 0, content: 0, copiesRead: 0 };
const enospc = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });

describe('Persistence', () => {
  const events = fixtureJournal(['backup-then-restore.log']).journal.all().slice(0, 3);

  function setUp(now = { t: 0 }) {
    const files = recordingFiles();
    const log = recordingLogger();
    const p = new Persistence(files.journalFile, files.checkpointFile, { logger: log.logger, now: () => now.t, retryMs: 1000 });
    return { ...files, ...log, p, now };
  }

  it('fsyncs the journal before every checkpoint', () => {
    const { calls, p } = setUp();
    const journal = new Journal({ maxEvents: 10 });
    journal.append(events);
    p.appended(journal);
    expect(p.checkpoint(checkpoint(), marks, journal)).toBe(true);
    expect(calls).toEqual(['sync', 'checkpoint next=4']);
    expect(p.counters.checkpoints).toBe(1);
  });

  it('is dirty from a change until the next checkpoint', () => {
    const { p } = setUp();
    expect(p.dirty).toBe(false);
    p.touch();
    expect(p.dirty).toBe(true);
    p.checkpoint(checkpoint(), marks, new Journal({ maxEvents: 10 }));
    expect(p.dirty).toBe(false);
  });

  it('wants a checkpoint after a check that was asked for one, read a new file head, or read a rotated copy', () => {
    const { p } = setUp();
    const journal = new Journal({ maxEvents: 10 });
    expect(p.wantedAfterCheck(marks)).toBe(false);
    p.defer();
    expect(p.wantedAfterCheck(marks)).toBe(true);
    const position = { identity: { dev: 1, ino: 1 }, head: Buffer.from('I, ['), tail: Buffer.alloc(0), offset: 4 };
    p.checkpoint(checkpoint(position), { headLength: 4, content: 1, copiesRead: 0 }, journal);
    expect(p.wantedAfterCheck({ headLength: 4, content: 1, copiesRead: 0 })).toBe(false);
    expect(p.wantedAfterCheck({ headLength: 4, content: 2, copiesRead: 0 })).toBe(true);
    expect(p.wantedAfterCheck({ headLength: 4, content: 1, copiesRead: 1 })).toBe(true);
  });

  it('on a refused write stops writing, reports once, and after the backoff writes what was pending exactly once', () => {
    const { calls, refuse, store, lines, p, now } = setUp();
    const journal = new Journal({ maxEvents: 10 });
    journal.append(events.slice(0, 1));
    refuse.error = enospc;
    store.failed = enospc;
    p.appended(journal);
    expect(p.health()).toEqual({ ok: false, error: 'ENOSPC: no space left on device', since: new Date(0).toISOString() });
    // Nothing more is tried before the backoff: no checkpoint.
    journal.append(events.slice(1, 3));
    p.appended(journal);
    expect(p.checkpoint(checkpoint(), marks, journal)).toBe(false);
    now.t = 1000;
    expect(p.checkpoint(checkpoint(), marks, journal)).toBe(false);
    // The backoff doubles: the next attempt is 2 s after this one, then 4 s.
    now.t = 2999;
    expect(p.checkpoint(checkpoint(), marks, journal)).toBe(false);
    now.t = 3000;
    expect(p.checkpoint(checkpoint(), marks, journal)).toBe(false);
    now.t = 6999;
    expect(p.checkpoint(checkpoint(), marks, journal)).toBe(false);
    expect(calls).toEqual(['refused write what was held', 'refused write what was held']);
    refuse.error = null;
    now.t = 7000;
    expect(p.checkpoint(checkpoint(), marks, journal)).toBe(true);
    expect(calls.slice(2)).toEqual(['write what was held', 'sync', 'checkpoint next=4']);
    expect(p.health().ok).toBe(true);
    expect(p.counters.writeFailures).toBe(3);
    expect(lines).toEqual([
      'error: cannot write the state directory; following and serving from memory, retrying',
      'info: state directory writable again; what was pending is written',
    ]);
    // Back to fsyncing before each checkpoint.
    p.appended(journal);
    expect(p.checkpoint(checkpoint(), marks, journal)).toBe(true);
    expect(calls.slice(5)).toEqual(['sync', 'checkpoint next=4']);
  });

  it('reports a change of reason once more, and never a repeated one', () => {
    const { refuse, store, lines, p, now } = setUp();
    const journal = new Journal({ maxEvents: 10 });
    refuse.error = enospc;
    store.failed = enospc;
    p.appended(journal);
    now.t = 10_000;
    p.checkpoint(checkpoint(), marks, journal);
    refuse.error = Object.assign(new Error('read-only file system'), { code: 'EROFS' });
    now.t = 20_000;
    p.checkpoint(checkpoint(), marks, journal);
    expect(lines).toHaveLength(2);
    expect(p.health().error).toMatch(/^EROFS/);
    expect(p.health().since).toBe(new Date(0).toISOString());
  });

  it('starts failed when the journal could be read but not written', () => {
    const { journalFile, checkpointFile } = recordingFiles();
    const log = recordingLogger();
    const journal = new Journal({ maxEvents: 10 });
    const readOnly: JournalFile = {
      ...journalFile,
      loadInto: (j) => {
        j.restore(events, 0);
        return { ...noLoad, writeError: Object.assign(new Error('ro'), { code: 'EROFS' }) };
      },
    };
    const p = new Persistence(readOnly, checkpointFile, { logger: log.logger, now: () => 0 });
    const loaded = p.load(journal, 'p.log');
    expect(journal.lastId).toBe(3);
    expect(p.health().ok).toBe(false);
    // No checkpoint: the log is read from its start with ids from 1, and the journal recognises what it has.
    expect(loaded).toMatchObject({ fresh: true, resume: null });
    expect(loaded.tracker.nextEventId).toBe(1);
  });
});
