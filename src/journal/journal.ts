/**
 * The journal owns the events: it keeps them in id order, answers queries
 * (after an id, of a type, of one operation), keeps the latest summary of every
 * restore and backup, and tells subscribers about new events. It is bounded: past
 * `maxEvents` the oldest events are dropped and counted, while operation
 * summaries are kept (they are small) up to `maxOperations`.
 */
import type { EventType, Operation, OperationKind, WatchEvent } from '../model.js';

export type JournalListener = (events: readonly WatchEvent[]) => void;

export interface JournalOptions {
  maxEvents: number;
  maxOperations?: number;
}

export class Journal {
  private events: WatchEvent[] = [];
  private readonly ops = new Map<string, Operation>();
  /** Id of the last restore and backup first seen: what latest() answers, without a scan. */
  private newest: Record<OperationKind, string | null> = { restore: null, backup: null };
  private readonly listeners = new Set<JournalListener>();
  private droppedCount = 0;
  private last = 0;
  private readonly maxOperations: number;

  constructor(private readonly options: JournalOptions) {
    this.maxOperations = options.maxOperations ?? 10_000;
  }

  /** Id of the newest event, 0 when there is none. */
  get lastId(): number {
    return this.last;
  }

  /** Id of the oldest event still held, or null when empty. */
  get firstId(): number | null {
    return this.events[0]?.id ?? null;
  }

  get size(): number {
    return this.events.length;
  }

  /** How many events were dropped to keep the journal within its bound. */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Adds events in id order and tells subscribers. Events whose id is not above
   * the last one are already here (a restart re-reading what it had seen) and are
   * skipped, so an event is never delivered twice. Returns the events added.
   */
  append(events: readonly WatchEvent[]): WatchEvent[] {
    const fresh = events.filter((e) => e.id > this.last);
    if (fresh.length === 0) return fresh;
    for (const e of fresh) {
      this.events.push(e);
      this.remember(e.operation);
    }
    this.last = fresh[fresh.length - 1]!.id;
    this.trim();
    for (const listener of this.listeners) listener(fresh);
    return fresh;
  }

  /**
   * Loads events kept from before a restart, without telling subscribers.
   * `operations` are summaries of restores and backups whose events were dropped.
   */
  restore(events: readonly WatchEvent[], dropped: number, operations: readonly Operation[] = []): void {
    this.events = [];
    this.ops.clear();
    this.newest = { restore: null, backup: null };
    for (const op of operations) this.remember(op);
    for (const e of events) {
      this.events.push(e);
      this.remember(e.operation);
    }
    this.last = this.events.at(-1)?.id ?? 0;
    this.droppedCount = dropped;
    this.trim();
  }

  /** Events with id > `after`, oldest first, at most `limit`, optionally of one type. */
  since(after: number, limit = Number.POSITIVE_INFINITY, type?: EventType): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (let i = this.indexAfter(after); i < this.events.length && out.length < limit; i++) {
      const e = this.events[i]!;
      if (type === undefined || e.type === type) out.push(e);
    }
    return out;
  }

  /** The events of one restore or backup still held, oldest first. */
  eventsOf(operationId: string): WatchEvent[] {
    return this.events.filter((e) => e.operation.id === operationId);
  }

  /** Every known restore or backup, newest first. */
  operations(kind: OperationKind): Operation[] {
    const out: Operation[] = [];
    for (const op of this.ops.values()) if (op.kind === kind) out.push(op);
    return out.reverse();
  }

  operation(kind: OperationKind, id: string): Operation | undefined {
    const op = this.ops.get(id);
    return op?.kind === kind ? op : undefined;
  }

  /** The most recently requested restore or backup, as it stands now. */
  latest(kind: OperationKind): Operation | null {
    const id = this.newest[kind];
    return id === null ? null : (this.ops.get(id) ?? null);
  }

  /** Calls `listener` with every batch of new events until the returned function is called. */
  subscribe(listener: JournalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** All events held, oldest first (for persistence and tests). */
  all(): readonly WatchEvent[] {
    return this.events;
  }

  /** Every known restore and backup, in the order they were requested. */
  allOperations(): Operation[] {
    return [...this.ops.values()];
  }

  private remember(op: Operation): void {
    // Map.set on an existing key keeps its place, so listings stay in request order.
    if (!this.ops.has(op.id)) this.newest[op.kind] = op.id;
    this.ops.set(op.id, op);
    if (this.ops.size > this.maxOperations) {
      const oldest = this.ops.keys().next().value;
      if (oldest !== undefined) this.ops.delete(oldest);
    }
  }

  private trim(): void {
    const over = this.events.length - this.options.maxEvents;
    // Drop in batches so that a full journal does not shift the array on every event.
    if (over > 0 && (over >= 1024 || over >= this.options.maxEvents / 10)) {
      this.events.splice(0, over);
      this.droppedCount += over;
    }
  }

  /** Index of the first event with id > after (ids are increasing). */
  private indexAfter(after: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.id <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
