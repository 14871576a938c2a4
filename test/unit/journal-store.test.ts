import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpointer, CHECKPOINT_FILE } from '../../src/journal/checkpoint.js';
import { Journal } from '../../src/journal/journal.js';
import { JOURNAL_FILE, JournalStore } from '../../src/journal/store.js';
import type { WatchEvent } from '../../src/model.js';
import { initialTrackerState } from '../../src/track/tracker.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'rw-store-'));

function event(id: number): WatchEvent {
  const op = {
    kind: 'restore' as const,
    id: `restore-${id}`,
    state: 'failed' as const,
    requestedAt: '2018-11-20T00:00:00.000Z',
    requestedBy: 'x',
    requestStatus: 500,
    finishedAt: null,
    lastActivityAt: '2018-11-20T00:00:00.000Z',
    durationMs: 0,
    orderPolls: 0,
    messages: 0,
    lastMessage: null,
    failure: 'refused',
  };
  return { id, type: 'restore.failed', time: op.requestedAt, restoreId: op.id, state: 'failed', file: 'f', offset: id, line: '', message: '', operation: op };
}

describe('JournalStore', () => {
  it('loads what it appended, and cuts off a line torn by a crash', () => {
    const d = dir();
    const store = new JournalStore(d, { compactSlack: 100 });
    expect(store.load().events).toEqual([]);
    store.append([event(1), event(2)]);
    store.close();
    appendFileSync(join(d, JOURNAL_FILE), '{"id":3,"type":"resto');
    const again = new JournalStore(d, { compactSlack: 100 });
    const loaded = again.load();
    expect(loaded.events.map((e) => e.id)).toEqual([1, 2]);
    expect(loaded.tornBytes).toBe('{"id":3,"type":"resto'.length);
    again.append([event(3)]);
    again.close();
    expect(new JournalStore(d, { compactSlack: 100 }).load().events.map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('compacts to what the journal keeps, with the dropped count and the summaries of dropped operations', () => {
    const d = dir();
    const store = new JournalStore(d, { compactSlack: 100 });
    store.load();
    const journal = new Journal({ maxEvents: 100 });
    for (let id = 1; id <= 300; id++) {
      const fresh = journal.append([event(id)]);
      store.append(fresh);
      store.maybeCompact(journal);
    }
    store.close();
    const lines = readFileSync(join(d, JOURNAL_FILE), 'utf8').trim().split('\n').length - 1;
    expect(lines).toBeLessThan(journal.size + 100);
    const loaded = new JournalStore(d, { compactSlack: 100 }).load();
    const reloaded = new Journal({ maxEvents: 100 });
    reloaded.restore(loaded.events, loaded.dropped, loaded.operations);
    expect(reloaded.dropped).toBe(journal.dropped);
    expect(reloaded.lastId).toBe(300);
    expect(reloaded.operations('restore')).toHaveLength(300);
  });

  it('sets aside a journal of another format version instead of overwriting it', () => {
    const d = dir();
    writeFileSync(join(d, JOURNAL_FILE), '{"format":"restore-watcher.journal","version":99,"dropped":0,"operations":[]}\n');
    const loaded = new JournalStore(d, { compactSlack: 100 }).load();
    expect(loaded.unusable).toMatch(/version 99/);
    expect(readFileSync(join(d, `${JOURNAL_FILE}.unusable`), 'utf8')).toContain('"version":99');
  });
});

describe('Checkpointer', () => {
  it('round-trips a checkpoint and leaves no temp file', () => {
    const d = dir();
    const cp = new Checkpointer(d);
    expect(cp.load()).toEqual({ kind: 'none' });
    const checkpoint = {
      path: '/var/log/x.log',
      position: { identity: { dev: 1, ino: 2 }, head: Buffer.from('head'), tail: Buffer.from('tail'), offset: 42 },
      knownCopies: [Buffer.from('old')],
      tracker: initialTrackerState(7),
      zone: { offset: 60, lastAccessTime: Date.UTC(2018, 9, 28, 0, 59, 58) },
      events: [event(6)],
    };
    cp.write(checkpoint);
    expect(cp.load()).toEqual({ kind: 'loaded', checkpoint });
    expect(() => readFileSync(join(d, `${CHECKPOINT_FILE}.tmp`))).toThrow(/ENOENT/);
  });

  it('reads a checkpoint written without the zone state as having none, and refuses a malformed one', () => {
    const d = dir();
    const cp = new Checkpointer(d);
    cp.write({ path: 'x.log', position: null, knownCopies: [], tracker: initialTrackerState(3), zone: { offset: -300, lastAccessTime: null }, events: [] });
    const written = JSON.parse(readFileSync(cp.file, 'utf8')) as Record<string, unknown>;
    delete written.zone;
    writeFileSync(cp.file, JSON.stringify(written));
    expect(cp.load()).toMatchObject({ kind: 'loaded', checkpoint: { zone: null } });
    writeFileSync(cp.file, JSON.stringify({ ...written, zone: { offset: 6000, lastAccessTime: null } }));
    expect(cp.load()).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/^zone\.offset: /) });
    writeFileSync(cp.file, JSON.stringify({ ...written, zone: { offset: 60 } }));
    expect(cp.load()).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/^zone\.lastAccessTime: /) });
  });

  it('refuses another format version, and a file that is not JSON, saying why', () => {
    const d = dir();
    const cp = new Checkpointer(d);
    writeFileSync(cp.file, JSON.stringify({ format: 'restore-watcher.checkpoint', version: 2 }));
    expect(cp.load()).toEqual({ kind: 'unusable', reason: 'format version 2, this agent reads 1' });
    writeFileSync(cp.file, '{"format": ');
    expect(cp.load()).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/^not JSON/) });
  });
});
