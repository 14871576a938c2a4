import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rebuildPoint, reconcile, skipKnown } from '../../src/agent/reconcile.js';
import { Journal } from '../../src/journal/journal.js';
import { defaultConfig } from '../../src/defaults.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import { fixtureJournal } from '../helpers/journal.js';
import { numberedLine, numberedLines } from '../helpers/lines.js';

/** The fixture's events, as a fresh read of the log makes them (ids from 1). */
function made(): ReturnType<Journal['all']> {
  return fixtureJournal(['backup-then-restore.log']).journal.all();
}

function journalOf(events: ReturnType<Journal['all']>): Journal {
  const j = new Journal({ maxEvents: 1000 });
  j.append(events);
  return j;
}

describe('reconcile', () => {
  const all = made();

  it('passes events after the journal through unchanged', () => {
    const r = reconcile(journalOf(all.slice(0, 2)), all.slice(2));
    expect(r).toEqual({ events: all.slice(2), shift: 0, renumbered: [] });
  });

  it('skips events the journal has from the same line, and keeps the new ones', () => {
    const r = reconcile(journalOf(all.slice(0, 3)), all);
    expect(r.events.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));
    expect(r.shift).toBe(0);
  });

  it('numbers after the journal an event whose id the journal gave to another line', () => {
    const journal = journalOf(all.slice(0, 2));
    const other = { ...all[0]!, id: 1, offset: all[0]!.offset + 100_000, line: 'another line' };
    const r = reconcile(journal, [other]);
    expect(r.events).toEqual([{ ...other, id: 3 }]);
    expect(r.shift).toBe(2);
    expect(r.renumbered).toEqual([{ id: 1, renumberedTo: 3, lastId: 2, line: 'another line' }]);
  });

  it('resumes numbering at the journaled event of the same line further on', () => {
    // The journal's first events came from lines that are gone; the log now starts with event 3's line.
    const journal = journalOf(all.slice(0, 4));
    const regenerated = all.slice(2).map((e, i) => ({ ...e, id: i + 1 }));
    const r = reconcile(journal, regenerated);
    expect(r.shift).toBe(2);
    expect(r.events).toEqual(all.slice(4));
  });

  it('takes events the journal dropped from memory as known', () => {
    const journal = new Journal({ maxEvents: 2 });
    journal.append(all.slice(0, 4));
    const r = reconcile(journal, all.slice(0, 5));
    expect(r.events).toEqual(all.slice(4, 5));
  });
});

describe('rebuilding without a checkpoint', () => {
  const all = made();
  const log = fileURLToPath(new URL('../../fixtures/backup-then-restore.log', import.meta.url));

  it('knows the log through the journal\'s newest line when the log still holds it there', async () => {
    const point = await rebuildPoint(journalOf(all.slice(0, 3)), [`${log}.gone`, log]);
    expect(point).toMatchObject({ offset: all[2]!.offset });
    expect(point!.identity.ino).toBe(statSync(log).ino);
  });

  it('knows nothing when the log holds something else there, or is gone', async () => {
    const moved = all.slice(0, 3).map((e) => ({ ...e, offset: e.offset + 1 }));
    expect(await rebuildPoint(journalOf(moved), [log])).toBeNull();
    expect(await rebuildPoint(journalOf(all.slice(0, 3)), [`${log}.gone`])).toBeNull();
    expect(await rebuildPoint(journalOf([]), [log])).toBeNull();
  });

  it('finds the line in a gzipped rotated copy, by the offset in its content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-rebuild-'));
    const copy = join(dir, 'production.log.1.gz');
    writeFileSync(copy, gzipSync(readFileSync(log)));
    writeFileSync(join(dir, 'production.log'), 'something else entirely\n');
    const point = await rebuildPoint(journalOf(all.slice(0, 3)), [join(dir, 'production.log'), `${join(dir, 'production.log')}.1`, copy]);
    expect(point).toEqual({ identity: { dev: statSync(copy).dev, ino: statSync(copy).ino }, offset: all[2]!.offset });
  });

  it('finds a line whose bytes are not valid UTF-8, kept with U+FFFD', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-rebuild-'));
    const path = join(dir, 'production.log');
    const bytes = Buffer.concat([Buffer.from(numberedLines(1, 2)), Buffer.from(numberedLine(3).replace('admin', 'ad\u00ff\u00femin'), 'latin1')]);
    writeFileSync(path, bytes);
    const pipeline = new Pipeline(pipelineOptions(defaultConfig()), path);
    pipeline.startFile(path);
    const events = [...pipeline.push(bytes), ...pipeline.end()];
    expect(events.at(-1)!.line).toContain('ad\ufffd\ufffdmin');
    expect(await rebuildPoint(journalOf(events), [path])).toMatchObject({ offset: events.at(-1)!.offset });
  });

  it('drops what was made through the known offset and numbers the rest after the journal', () => {
    const regenerated = all.map((e, i) => ({ ...e, id: i + 1 }));
    const r = skipKnown(regenerated, all[2]!.offset, 40);
    expect(r.events.map((e) => e.id)).toEqual(all.slice(3).map((_, i) => 41 + i));
    expect(r.events.map((e) => e.offset)).toEqual(all.slice(3).map((e) => e.offset));
    expect(r.shift).toBe(40 + 1 - 4);
    expect(skipKnown(regenerated.slice(0, 3), all[2]!.offset, 40)).toEqual({ events: [], shift: 0 });
  });
});
