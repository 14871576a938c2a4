/**
 * The journal owns the events: it keeps them in id order, answers queries
 * (after an id, of a type, of one operation), keeps the latest summary of every
 * restore and backup, and tells subscribers about new events. It is bounded: past
 * `maxEvents` the oldest events are dropped and counted, while operation
 * summaries are kept (they are small) up to `maxOperations`.
 *
 * Memory is budgeted in bytes. In memory the journal holds an index entry per
 * event (id, type, operation, serialised size and where its body is: `EventIndex`),
 * never the bodies themselves when a store keeps them on disk (`EventBodies`);
 * readers take events a page at a time, each page bounded in bytes, so what a
 * reader costs does not grow with the journal. Every event is capped on the way
 * in (`fitEvent`, in event-caps.ts, re-exported here for the journal's users).
 */
import type { EventType, Operation, OperationKind, WatchEvent } from '../model.js';
import { fitEvent } from './event-caps.js';
import { EventIndex, INDEX_ENTRY_BYTES } from './event-index.js';

export { EVENT_CAPS, fitEvent } from './event-caps.js';
export { INDEX_ENTRY_BYTES, type BodyRange } from './event-index.js';

export type JournalListener = (events: readonly WatchEvent[], json: readonly string[]) => void;

/** Where event bodies live: in memory (the default) or in the journal's files on disk. */
export interface EventBodies {
  /**
   * Keeps the bodies of new events, given serialised; returns a reference per
   * event. A `BodyRange` (a byte range of a file) is indexed compactly.
   */
  keep(json: readonly string[], events: readonly WatchEvent[]): unknown[];
  /** The serialised bodies behind `refs`, in order. */
  read(refs: readonly unknown[]): string[];
}

/** Bodies held as the event objects themselves: for journals without a state directory. */
export const memoryBodies: EventBodies = {
  keep: (_json, events) => [...events],
  read: (refs) => refs.map((e) => JSON.stringify(e)),
};

export interface JournalOptions {
  maxEvents: number;
  maxOperations?: number;
  bodies?: EventBodies;
  /** Memory the index may take (default 64 MiB): it holds fewer events than `maxEvents` when that would not fit. */
  maxIndexBytes?: number;
}

export interface PageQuery {
  /** Stop once the page holds this many serialised bytes (a page holds at least one event). */
  maxBytes: number;
  limit?: number;
  type?: EventType;
  operationId?: string;
  /** Look no further than this id. */
  until?: number;
}

/** One page of events, serialised: what a reader sends without parsing. */
export interface Page {
  ids: number[];
  types: EventType[];
  json: string[];
  /** Id of the last event looked at: the next page starts after it. */
  next: number;
  /** No event after `next` was left unread. */
  done: boolean;
}

interface Known {
  op: Operation;
  /** Id of its newest event, 0 when none is known (a summary kept after its events were dropped). */
  lastEventId: number;
}

export class Journal {
  private readonly entries = new EventIndex();
  private readonly ops = new Map<string, Known>();
  /** Id of the last restore and backup first seen: what latest() answers, without a scan. */
  private newest: Record<OperationKind, string | null> = { restore: null, backup: null };
  private readonly listeners = new Set<JournalListener>();
  private droppedCount = 0;
  private last = 0;
  private readonly maxOperations: number;
  private readonly bodies: EventBodies;
  /** Events held at most: `maxEvents`, or fewer if their index would pass `maxIndexBytes`. */
  readonly capacity: number;

  constructor(options: JournalOptions) {
    this.maxOperations = options.maxOperations ?? 10_000;
    this.bodies = options.bodies ?? memoryBodies;
    const byBytes = Math.floor((options.maxIndexBytes ?? 64 * 1024 * 1024) / INDEX_ENTRY_BYTES);
    this.capacity = Math.max(1, Math.min(options.maxEvents, byBytes));
  }

  /** Id of the newest event, 0 when there is none. */
  get lastId(): number {
    return this.last;
  }

  /** Id of the oldest event still held, or null when empty. */
  get firstId(): number | null {
    return this.entries.size > 0 ? this.entries.id(0) : null;
  }

  get size(): number {
    return this.entries.size;
  }

  /** How many events were dropped to keep the journal within its bound. */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Adds events in id order and tells subscribers. Events whose id is not above
   * the last one are already here (a restart re-reading what it had seen) and are
   * skipped, so an event is never delivered twice. Returns the events added, capped.
   */
  append(events: readonly WatchEvent[]): WatchEvent[] {
    const fresh: WatchEvent[] = [];
    for (const e of events) if (e.id > this.last && e.id > (fresh.at(-1)?.id ?? 0)) fresh.push(fitEvent(e));
    if (fresh.length === 0) return fresh;
    const json = fresh.map((e) => JSON.stringify(e));
    const refs = this.bodies.keep(json, fresh);
    fresh.forEach((e, i) => this.add(e, json[i]!.length, refs[i]));
    this.trim(false);
    for (const listener of this.listeners) listener(fresh, json);
    return fresh;
  }

  /**
   * Loads events kept from before a restart, without telling subscribers (their
   * bodies are kept anew: for a journal in memory). `operations` are summaries of
   * restores and backups whose events were dropped.
   */
  restore(events: readonly WatchEvent[], dropped: number, operations: readonly Operation[] = []): void {
    this.reset(dropped, operations);
    const fitted = events.map(fitEvent);
    const json = fitted.map((e) => JSON.stringify(e));
    const refs = this.bodies.keep(json, fitted);
    fitted.forEach((e, i) => this.adopt(e, json[i]!.length, refs[i]));
    this.trim(true);
  }

  /** Starts a restore from disk: forgets everything, then takes `adopt()` calls in id order. */
  reset(dropped: number, operations: readonly Operation[]): void {
    this.entries.clear();
    this.ops.clear();
    this.newest = { restore: null, backup: null };
    for (const op of operations) this.remember(op, 0);
    this.last = 0;
    this.droppedCount = dropped;
  }

  /** Takes one event read back from disk, whose body stays where `ref` says. */
  adopt(e: WatchEvent, bytes: number, ref: unknown): void {
    if (e.id <= this.last) return;
    this.add(e, bytes, ref);
    this.trim(false);
  }

  /** Forgets the events up to `id` (their bodies are gone), counting them as dropped; their operations' summaries stay. */
  dropThrough(id: number): number {
    const n = this.entries.indexAfter(id);
    if (n > 0) {
      this.entries.dropFirst(n);
      this.droppedCount += n;
    }
    return n;
  }

  /** Ends a restore from disk: the journal holds exactly its bound. */
  settle(): void {
    this.trim(true);
  }

  /**
   * The next page of events with id > `after` matching the query, serialised, at
   * most `maxBytes` (but at least one event) and `limit` events.
   */
  page(after: number, query: PageQuery): Page {
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    const until = query.until ?? Number.POSITIVE_INFINITY;
    const index = this.entries;
    const ids: number[] = [];
    const types: EventType[] = [];
    const refs: unknown[] = [];
    let bytes = 0;
    let next = after;
    let i = index.indexAfter(after);
    for (; i < index.size && ids.length < limit && (ids.length === 0 || bytes < query.maxBytes); i++) {
      const id = index.id(i);
      if (id > until) break;
      next = id;
      if (query.type !== undefined && index.type(i) !== query.type) continue;
      if (query.operationId !== undefined && index.operationId(i) !== query.operationId) continue;
      ids.push(id);
      types.push(index.type(i));
      refs.push(index.ref(i));
      bytes += index.bytes(i);
    }
    return {
      ids,
      types,
      json: refs.length > 0 ? this.bodies.read(refs) : [],
      next,
      done: i >= index.size || index.id(i) > until,
    };
  }

  /** Events with id > `after`, oldest first, at most `limit`, optionally of one type (read at once: for small answers). */
  since(after: number, limit = Number.POSITIVE_INFINITY, type?: EventType): WatchEvent[] {
    return this.collect(after, { limit, ...(type !== undefined ? { type } : {}) });
  }

  /** The first event after `after` for which `match` holds, read a page at a time. */
  find(after: number, match: (e: WatchEvent) => boolean): WatchEvent | undefined {
    let cursor = after;
    for (;;) {
      const page = this.page(cursor, { maxBytes: 256 * 1024 });
      for (const text of page.json) {
        const e = JSON.parse(text) as WatchEvent;
        if (match(e)) return e;
      }
      if (page.done || page.ids.length === 0) return undefined;
      cursor = page.next;
    }
  }

  /** The events of one restore or backup still held, oldest first (read at once: for small answers). */
  eventsOf(operationId: string): WatchEvent[] {
    return this.collect(0, { operationId });
  }

  /** The newest `count` events of one restore or backup, oldest first. */
  recentOf(operationId: string, count: number): WatchEvent[] {
    const refs: unknown[] = [];
    for (let i = this.entries.size - 1; i >= 0 && refs.length < count; i--) {
      if (this.entries.operationId(i) === operationId) refs.push(this.entries.ref(i));
    }
    return this.bodies.read(refs.reverse()).map((text) => JSON.parse(text) as WatchEvent);
  }

  /** Every known restore or backup, newest first. */
  operations(kind: OperationKind): Operation[] {
    const out: Operation[] = [];
    for (const k of this.ops.values()) if (k.op.kind === kind) out.push(k.op);
    return out.reverse();
  }

  operation(kind: OperationKind, id: string): Operation | undefined {
    const op = this.ops.get(id)?.op;
    return op?.kind === kind ? op : undefined;
  }

  /** The most recently requested restore or backup, as it stands now. */
  latest(kind: OperationKind): Operation | null {
    const id = this.newest[kind];
    return id === null ? null : (this.ops.get(id)?.op ?? null);
  }

  /** Calls `listener` with every batch of new events until the returned function is called. */
  subscribe(listener: JournalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** All events held, oldest first (read at once: for tests and small journals). */
  all(): readonly WatchEvent[] {
    return this.collect(0, {});
  }

  /** Every known restore and backup, in the order they were requested. */
  allOperations(): Operation[] {
    return [...this.ops.values()].map((k) => k.op);
  }

  /** Summaries of restores and backups none of whose events has an id of `firstId` or more. */
  operationsBefore(firstId: number): Operation[] {
    const out: Operation[] = [];
    for (const k of this.ops.values()) if (k.lastEventId < firstId) out.push(k.op);
    return out;
  }

  private collect(after: number, query: Omit<PageQuery, 'maxBytes'>): WatchEvent[] {
    return this.page(after, { ...query, maxBytes: Number.POSITIVE_INFINITY }).json.map((text) => JSON.parse(text) as WatchEvent);
  }

  private add(e: WatchEvent, bytes: number, ref: unknown): void {
    this.entries.push(e.id, e.type, e.operation.id, bytes, ref);
    this.remember(e.operation, e.id);
    this.last = e.id;
  }

  private remember(op: Operation, eventId: number): void {
    // Map.set on an existing key keeps its place, so listings stay in request order.
    if (!this.ops.has(op.id)) this.newest[op.kind] = op.id;
    this.ops.set(op.id, { op, lastEventId: Math.max(eventId, this.ops.get(op.id)?.lastEventId ?? 0) });
    if (this.ops.size > this.maxOperations) {
      const oldest = this.ops.keys().next().value;
      if (oldest !== undefined) this.ops.delete(oldest);
    }
  }

  private trim(exact: boolean): void {
    const over = this.entries.size - this.capacity;
    // Drop in batches so that a full journal does not shift the index on every event.
    if (over > 0 && (exact || over >= 1024 || over >= this.capacity / 10)) {
      this.entries.dropFirst(over);
      this.droppedCount += over;
    }
  }
}
