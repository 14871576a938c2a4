import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_CAPS, INDEX_ENTRY_BYTES, Journal } from '../../src/journal/journal.js';
import { JOURNAL_FILE, JournalStore, MANIFEST_FILE } from '../../src/journal/store.js';
import type { WatchEvent } from '../../src/model.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'rw-segments-'));

function event(id: number, message = `message ${id}`, operationId = `restore-${id}`): WatchEvent {
  const op = {
    kind: 'restore' as const,
    id: operationId,
    state: 'failed' as const,
    requestedAt: '2018-11-20T00:00:00.000Z',
    requestedBy: 'x',
    requestStatus: 200,
    finishedAt: null,
    lastActivityAt: '2018-11-20T00:00:00.000Z',
    durationMs: 0,
    orderPolls: 0,
    messages: 1,
    lastMessage: message,
    failure: message,
  };
  const line = `E, [2018-11-20T00:00:00.000000 #1] ERROR -- : ${message}`;
  return { id, type: 'restore.failed', time: op.requestedAt, restoreId: op.id, state: 'failed', file: 'f', offset: id, line, message, operation: op };
}

/** A journal whose bodies live in a store in `d`, loaded from it. */
function open(d: string, maxEvents: number, compactSlack = 10): { journal: Journal; store: JournalStore } {
  const store = new JournalStore(d, { compactSlack });
  const journal = new Journal({ maxEvents, bodies: store });
  store.loadInto(journal);
  return { journal, store };
}

const segments = (d: string): string[] => readdirSync(d).filter((n) => /^events-\d+\.jsonl$/.test(n)).sort();

describe('the journal on disk, in segments', () => {
  it('starts again in a state directory deleted and made again: the open segment is written back, the sealed ones count as dropped', () => {
    const d = dir();
    const { journal, store } = open(d, 100, 2);
    journal.append([1, 2, 3, 4, 5].map((id) => event(id)));
    expect(segments(d)).toHaveLength(2);
    rmSync(d, { recursive: true });
    // Appends still go to the deleted open segment; the directory says the state is gone.
    journal.append([event(6)]);
    mkdirSync(d);
    expect(() => store.sync()).toThrow(/ENOENT|was deleted/);
    journal.append([event(7)]);
    expect(store.retry(journal)).toBe(4);
    store.sync();
    expect(journal.all().map((e) => e.id)).toEqual([5, 6, 7]);
    expect(journal.dropped).toBe(4);
    expect(journal.operation('restore', 'restore-1')).toBeDefined();
    store.close();
    const again = open(d, 100, 2);
    expect(again.journal.all().map((e) => e.id)).toEqual([5, 6, 7]);
    expect(again.journal.dropped).toBe(4);
    expect(again.journal.operation('restore', 'restore-1')).toBeDefined();
    again.store.close();
  });


  it('compacts by deleting whole old segments: kept files are never rewritten', () => {
    const d = dir();
    const { journal, store } = open(d, 25);
    const fileIds = new Map<string, number>();
    let compactions = 0;
    for (let id = 1; id <= 200; id++) {
      journal.append([event(id)]);
      if (store.maybeCompact(journal)) compactions++;
      for (const name of segments(d)) {
        const ino = statSync(join(d, name)).ino;
        // A sealed segment keeps its inode and its bytes for as long as it exists.
        expect(fileIds.get(name) ?? ino).toBe(ino);
        fileIds.set(name, ino);
      }
    }
    store.close();
    expect(compactions).toBeGreaterThan(10);
    expect(store.segmentsDeleted).toBeGreaterThan(10);
    // What is on disk: the journal's events plus at most one segment more.
    const lines = [...segments(d), JOURNAL_FILE].flatMap((n) => readFileSync(join(d, n), 'utf8').trim().split('\n')).filter((l) => !l.includes('"format"'));
    expect(lines.length).toBeLessThanOrEqual(journal.size + 10);
    const again = open(d, 25);
    // Reloaded, the journal holds exactly its bound (in memory it drops in batches).
    expect(again.journal.size).toBe(25);
    expect(again.journal.all().map((e) => e.id)).toEqual(journal.all().map((e) => e.id).slice(-25));
    expect(again.journal.dropped).toBe(175);
    expect(again.journal.operations('restore')).toHaveLength(200);
    again.store.close();
  });

  it('stores a 60 KB message once, capped, and reads it back from disk', () => {
    const d = dir();
    const { journal, store } = open(d, 100);
    const huge = `could not download: ${'x'.repeat(60 * 1024)}`;
    const [kept] = journal.append([event(1, huge)]);
    store.close();
    const onDisk = readFileSync(join(d, JOURNAL_FILE), 'utf8').trim().split('\n')[1]!;
    // Before capping the message was there three times over (message, line, operation.lastMessage and failure).
    expect(onDisk.length).toBeLessThan(EVENT_CAPS.message + EVENT_CAPS.line + EVENT_CAPS.lastMessage + EVENT_CAPS.failure + 1024);
    // Only `message` holds more than a head of it.
    expect((onDisk.match(/x+/g) ?? []).filter((run) => run.length > EVENT_CAPS.failure)).toHaveLength(1);
    expect(kept!.message.startsWith('could not download: xxx')).toBe(true);
    expect(kept!.message.endsWith('…')).toBe(true);
    const again = open(d, 100);
    expect(again.journal.all()).toEqual([kept]);
    again.store.close();
  });

  it('serves pages bounded in bytes', () => {
    const d = dir();
    const { journal, store } = open(d, 1000, 100);
    for (let id = 1; id <= 300; id++) journal.append([event(id)]);
    const size = JSON.stringify(journal.since(0, 1)[0]).length;
    const page = journal.page(0, { maxBytes: size * 10 });
    expect(page.ids).toHaveLength(10);
    expect(page.json.map((j) => (JSON.parse(j) as WatchEvent).id)).toEqual(page.ids);
    // A page always makes progress, whatever the budget.
    expect(journal.page(page.next, { maxBytes: 1 }).ids).toEqual([11]);
    expect(journal.page(0, { maxBytes: 1e9, operationId: 'restore-250' }).ids).toEqual([250]);
    store.close();
  });

  it('holds fewer events than maxEvents when their index would pass its byte budget', () => {
    const journal = new Journal({ maxEvents: 1000, maxIndexBytes: 100 * INDEX_ENTRY_BYTES });
    expect(journal.capacity).toBe(100);
    for (let id = 1; id <= 500; id++) journal.append([event(id)]);
    expect(journal.size).toBeLessThanOrEqual(110);
    expect(journal.dropped + journal.size).toBe(500);
    expect(new Journal({ maxEvents: 1000 }).capacity).toBe(1000);
  });

  it('takes over the single-file journal of version 1, with its dropped count and summaries', () => {
    const d = dir();
    const old = event(5, 'gone', 'restore-old');
    const header = { format: 'restore-watcher.journal', version: 1, dropped: 4, operations: [old.operation] };
    writeFileSync(join(d, JOURNAL_FILE), [header, event(5), event(6)].map((x) => `${JSON.stringify(x)}\n`).join(''));
    const store = new JournalStore(d, { compactSlack: 100 });
    const journal = new Journal({ maxEvents: 100, bodies: store });
    const loaded = store.loadInto(journal);
    expect(loaded.migrated).toBe(true);
    expect(journal.all().map((e) => e.id)).toEqual([5, 6]);
    expect(journal.dropped).toBe(4);
    expect(journal.operation('restore', 'restore-old')).toEqual(old.operation);
    journal.append([event(7)]);
    store.close();
    expect(JSON.parse(readFileSync(join(d, MANIFEST_FILE), 'utf8'))).toMatchObject({ version: 2, dropped: 4 });
    const again = open(d, 100);
    expect(again.journal.all().map((e) => e.id)).toEqual([5, 6, 7]);
    again.store.close();
  });
});
