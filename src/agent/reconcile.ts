/**
 * After a restart, re-reading the log makes events the journal has already: same
 * id, same source line; they are skipped. If an event comes with a journaled id
 * but from another line, the bytes that made the journaled one are gone (emptied
 * or deleted while the agent was down): if the journal has this event's line
 * further on, numbering resumes from there (it is skipped too); otherwise the
 * event is new and numbered after the journal's last. Pure: the journal is only
 * read.
 */
import type { WatchEvent } from '../model.js';

/** What reconciling reads of the journal. */
export interface JournalView {
  readonly lastId: number;
  /** Events after `afterId`, oldest first, at most `limit`. */
  since(afterId: number, limit?: number): WatchEvent[];
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
    const later = journal.since(e.id).find((k) => sameSource(k, e));
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
