/**
 * After a restart, re-reading the log makes events the journal has already: same
 * id, same source line; they are skipped. If an event comes with a journaled id
 * but from another line, the bytes that made the journaled one are gone (emptied
 * or deleted while the agent was down): if the journal has this event's line
 * further on, numbering resumes from there (it is skipped too); otherwise the
 * event is new and numbered after the journal's last. The journal is only read.
 *
 * Without a checkpoint (rebuildPoint, skipKnown), the log is read from its start:
 * if it still holds the journal's newest line where that event says, everything up
 * to it is known and everything after it is new.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { WatchEvent } from '../model.js';
import { identityOf, type FileIdentity } from '../tail/identity.js';

/** What reconciling reads of the journal. */
export interface JournalView {
  readonly lastId: number;
  /** Events after `afterId`, oldest first, at most `limit`. */
  since(afterId: number, limit?: number): WatchEvent[];
  /** The first event after `afterId` that `match` accepts, read a page at a time. */
  find(afterId: number, match: (e: WatchEvent) => boolean): WatchEvent | undefined;
}

export interface Renumbering {
  id: number;
  renumberedTo: number;
  lastId: number;
  line: string;
}

export interface Reconciled {
  /** The events to file: new ones, with their final ids. */
  events: WatchEvent[];
  /** How far later ids move (the tracker's next id moves with them). */
  shift: number;
  /** Each place numbering moved, for the log. */
  renumbered: Renumbering[];
}

export function reconcile(journal: JournalView, made: readonly WatchEvent[]): Reconciled {
  const last = journal.lastId;
  if (made.length === 0 || made[0]!.id > last) return { events: [...made], shift: 0, renumbered: [] };
  const events: WatchEvent[] = [];
  const renumbered: Renumbering[] = [];
  let shift = 0;
  for (const m of made) {
    const e = shift === 0 ? m : { ...m, id: m.id + shift };
    if (e.id > last) {
      events.push(e);
      continue;
    }
    const kept = journal.since(e.id - 1, 1)[0];
    // Dropped from memory already: nothing to compare with; the ids say it is known.
    if (kept === undefined || kept.id !== e.id || sameSource(kept, e)) continue;
    const later = journal.find(e.id, (k) => sameSource(k, e));
    const to = later?.id ?? last + 1;
    renumbered.push({ id: e.id, renumberedTo: to, lastId: last, line: e.line.slice(0, 200) });
    shift += to - e.id;
    if (later === undefined) events.push({ ...e, id: to });
  }
  return { events, shift, renumbered };
}

/** The same line made the same event. */
export function sameSource(a: WatchEvent, b: WatchEvent): boolean {
  return a.type === b.type && a.operation.id === b.operation.id && a.offset === b.offset && a.line === b.line;
}

/**
 * Where a rebuild (no usable checkpoint) may skip to: the journal's newest event
 * made from a line (not a tick), if one of `paths` (the log, its first rotated
 * copy, which a start without a checkpoint reads first) still holds that line at
 * that offset. Then everything up to it in that file is known and everything after
 * is new. Null when the journal is empty, or when neither holds the line (rotated
 * away or emptied since): then everything read is new.
 */
export function rebuildPoint(journal: Pick<JournalView, 'lastId' | 'since'>, paths: readonly string[]): RebuildPoint | null {
  // The newest events are enough: only stalls, made by silence, come without a line. Bodies are read from disk.
  const newest = journal.since(Math.max(0, journal.lastId - REBUILD_LOOK_BACK));
  for (let i = newest.length - 1; i >= 0; i--) {
    const e = newest[i]!;
    if (e.type.endsWith('.stalled')) continue;
    // A long line is kept cut, with an ellipsis: its head still names it.
    const line = e.line.endsWith('…') ? e.line.slice(0, -1) : e.line;
    for (const path of paths) {
      const point = lineAt(path, e.offset, Buffer.byteLength(line), line);
      if (point !== null) return point;
    }
    return null;
  }
  return null;
}

/** How many of the journal's newest events a rebuild looks through for one made from a line. */
const REBUILD_LOOK_BACK = 64;

/** A rebuild's starting knowledge: which file holds the journal's newest line, and where. */
export interface RebuildPoint {
  identity: FileIdentity;
  offset: number;
}

/** The point, when the file at `path` holds `line` at `offset`. */
function lineAt(path: string, offset: number, bytes: number, line: string): RebuildPoint | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(bytes);
    if (readSync(fd, buf, 0, bytes, offset) !== bytes || buf.toString('utf8') !== line) return null;
    return { identity: identityOf(fstatSync(fd)), offset };
  } finally {
    closeSync(fd);
  }
}

/**
 * During a rebuild: drops the events made from lines up to `through` (the journal
 * has them), and numbers the rest after the journal's last id. Returns the events
 * left and the shift applied to them (the tracker's next id moves with them).
 */
export function skipKnown(made: readonly WatchEvent[], through: number, lastId: number): { events: WatchEvent[]; shift: number } {
  const rest = made.filter((e) => e.offset > through);
  if (rest.length === 0) return { events: [], shift: 0 };
  const shift = lastId + 1 - rest[0]!.id;
  return { events: rest.map((e) => ({ ...e, id: e.id + shift })), shift };
}
