/**
 * After a restart, re-reading the log makes events the journal has already: same
 * id, same source line; they are skipped. If an event comes with a journaled id
 * but from another line, the bytes that made the journaled one are gone (emptied
 * or deleted while the agent was down): if the journal has this event's line
 * further on, numbering resumes from there (it is skipped too); otherwise the
 * event is new and numbered after the journal's last. The journal is only read.
 *
 * Without a checkpoint (rebuildPoint, skipKnown), the log is read from its start
 * (its rotated copies first): if one of them still holds the journal's newest line
 * where that event says, everything up to it is known and everything after it is new.
 */
import type { WatchEvent } from '../model.js';
import { openIfReadable, statOrNull } from '../tail/fs.js';
import { identityOf, sameFile, type FileIdentity } from '../tail/identity.js';
import { contentAt } from '../tail/rotated.js';

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
 * made from a line (not a tick), if one of `paths` (the log and its rotated
 * copies, plain or gzipped, which a start without a checkpoint reads before the
 * log) still holds that line at that offset of its content. Then everything up to
 * it in that file is known and everything after is new. The file the event names
 * by identity is looked at first. A line is compared as the splitter decoded it,
 * so one with invalid UTF-8 (kept with U+FFFD) or cut (kept with an ellipsis) is
 * still recognised. Null when the journal is empty, or when none holds the line
 * (rotated away or emptied since): then everything read is new.
 */
export async function rebuildPoint(journal: Pick<JournalView, 'lastId' | 'since'>, paths: readonly string[]): Promise<RebuildPoint | null> {
  // The newest events are enough: only stalls, made by silence, come without a line. Bodies are read from disk.
  const newest = journal.since(Math.max(0, journal.lastId - REBUILD_LOOK_BACK));
  for (let i = newest.length - 1; i >= 0; i--) {
    const e = newest[i]!;
    if (e.type.endsWith('.stalled')) continue;
    const offset = e.offset;
    const named = e.source?.identity ?? null;
    const files: { path: string; identity: FileIdentity }[] = [];
    for (const path of paths) {
      const identity = await identityAt(path);
      if (identity !== null) files.push({ path, identity });
    }
    // The file the event was read from, if it is still there under one of the names, first.
    files.sort((a, b) => Number(sameFile(b.identity, named)) - Number(sameFile(a.identity, named)));
    for (const f of files) {
      if (await holdsLine(f.path, offset, e.line)) return { identity: f.identity, offset };
    }
    return null;
  }
  return null;
}

/** How many of the journal's newest events a rebuild looks through for one made from a line. */
const REBUILD_LOOK_BACK = 64;

/** A rebuild's starting knowledge: which file holds the journal's newest line, and where in its content. */
export interface RebuildPoint {
  identity: FileIdentity;
  offset: number;
}

async function identityAt(path: string): Promise<FileIdentity | null> {
  const stats = await statOrNull(path).catch(() => null);
  return stats !== null && stats.isFile() ? identityOf(stats) : null;
}

/** Whether the content of the file at `path` (gunzipped for `.gz`) has, at `offset`, the line an event kept as `kept`. */
async function holdsLine(path: string, offset: number, kept: string): Promise<boolean> {
  const handle = await openIfReadable(path).catch(() => null);
  if (handle === null) return false;
  try {
    // A long line is kept cut, with an ellipsis: its head still names it.
    const cut = kept.endsWith('…');
    const text = cut ? kept.slice(0, -1) : kept;
    // An invalid byte was decoded to U+FFFD (3 bytes): the line on disk is never longer than its text encoded.
    const bytes = await contentAt(handle, path.endsWith('.gz'), offset, Buffer.byteLength(text) + 2);
    const nl = bytes.indexOf(0x0a);
    const decoded = bytes.toString('utf8', 0, nl === -1 ? bytes.length : nl).replace(/\r$/, '');
    return cut ? decoded.startsWith(text) : decoded === text;
  } catch {
    // A compressed copy still being written, or one that is not gzip at all.
    return false;
  } finally {
    await handle.close();
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
