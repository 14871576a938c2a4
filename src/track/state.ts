/**
 * The tracker's state and the pure helpers that build it: the types a checkpoint
 * holds, the bounds of the look-back buffer, a fresh or upgraded state, the
 * state with a field changed, and operation ids. Nothing here tells a record.
 */
import type { AccessRecord, ExceptionRecord, LoggerRecord, LogRecord, Operation, OperationKind, WatchEvent } from '../model.js';
import { iso } from '../format.js';

/** A failure that waits for its verdict: an error, or polls answered with trouble. */
export interface PendingFailure {
  /** When the failing record was logged: the operation's `finishedAt` if the verdict is `failed`. */
  atMs: number;
  message: string;
  /** The rule that made it. */
  rule: string;
  src: Source;
}

export interface ActiveOperation {
  op: Operation;
  requestedMs: number;
  lastActivityMs: number;
  /** The Rails request id of the request that started it, when the log tags requests. */
  requestId: string | null;
  /** An error logged, awaiting a success or the end of the grace. */
  pendingError: PendingFailure | null;
  /** The first of the order polls answered with trouble since the last good one. */
  failingPolls: PendingFailure | null;
  /**
   * Polls answered 2xx while an error awaits its verdict: progress only if the
   * operation succeeds (an agent answers polls after a failure too). Told then.
   */
  deferredPolls: { file: string; offset: number }[];
  /** The process running it: the pid of its first logger line; a line from another pid means the agent restarted. */
  pid: number | null;
}

/** A request seen in the Rails request log (`Started …`), to attribute its tagged lines and to count it once. */
export interface RailsRequest {
  /** Its request-id tag; null in an untagged log. */
  tag: string | null;
  pid: number;
  method: string;
  path: string;
  host: string;
  startedMs: number;
  /** The operation it started, once known. */
  operationId: string | null;
  /** The operations it was told to (the one it started, or those a poll advanced). */
  toldTo: string[];
  /** Where its `Started` line is. */
  file: string;
  offset: number;
  /** Status and time from `Completed`; null while open. */
  status: number | null;
  completedMs: number | null;
  /** True once an access line repeated it (so it is not counted twice). */
  seenInAccessLog: boolean;
}

/** A logger entry or exception report held back until a request line can claim it. */
export type HeldRecord = LoggerRecord | ExceptionRecord;

export interface TrackerState {
  /** The id the next event gets. */
  nextEventId: number;
  /** The operation that started first among `operations` (null when none): for readers that show one. */
  active: ActiveOperation | null;
  /** Every active operation, in the order they started. */
  operations: ActiveOperation[];
  latestRestore: Operation | null;
  latestBackup: Operation | null;
  /** The last operation id handed out. */
  lastOperationId: string | null;
  /** The latest request time an id was made for; an id at or before it gets the operation's number. */
  lastOperationMs: number | null;
  /** Operations seen so far (ids use it to stay unique when the clock repeats itself). */
  operationCount: number;
  /** The ids made from the last MAX_RECENT_IDS request times, to tell when a time repeats. */
  recentIds: string[];
  /** The time of the latest line: the log's clock. */
  clock: number | null;
  /** The backup-agent's process id, from the latest logger line. */
  pid: number | null;
  /** Records held back for the next request line (bounded by MAX_HELD and MAX_HELD_CHARS). */
  held: HeldRecord[];
  heldChars: number;
  /** Recent Rails requests (at most MAX_RAILS_REQUESTS). */
  requests: RailsRequest[];
  /**
   * A server banner without a time said the agent restarted: the operations it
   * ends fail at the next line that carries a time.
   */
  restart: { message: string; src: Source; operations: string[]; ended: boolean } | null;
  /** The operation that failed because its order polls answered with trouble, while they still do. */
  failedByPolls: string | null;
  /**
   * A request Rails answered with an error: Rails logs the exception after
   * `Completed`, so the refusal is told once the request's tagged lines are over.
   */
  refusal: (RequestLine & { kind: OperationKind; rule: string }) | null;
  /** The last request line told to an operation, for the server's own lines that repeat it. */
  lastRequest: { path: string; toldTo: string[] } | null;
}

export interface TrackResult {
  state: TrackerState;
  events: WatchEvent[];
}

/** How one record was told, for `replay --explain`. */
export interface Decision {
  file: string;
  offset: number;
  /** The record kind. */
  record: LogRecord['kind'];
  /** The operation it was attributed to, or null. */
  operation: string | null;
  /** The rule that decided, or why no operation took it. */
  rule: string;
}

export interface TrackOptions {
  /** Where to put a decision for every record; null (the default) costs nothing. */
  decisions?: Decision[] | null;
}

/** Events carry at most this much of their source line. */
export const MAX_EVENT_LINE_CHARS = 4096;
/** The look-back buffer: at most this many records … */
export const MAX_HELD = 64;
/** … and this many characters of message and line. */
export const MAX_HELD_CHARS = 64 * 1024;
/**
 * While operations are active, only errors and warnings are held (another request's
 * access line, written right after them, may claim them); they are told once the
 * log's clock is this far past them.
 */
export const HOLD_MS = 2000;
/** While none is active, a held record waits this long for the request that may start one. */
export const IDLE_HOLD_MS = 10_000;
/** Rack writes whole seconds: an access line's real time is up to a second after the one written. */
export const SECOND = 1000;

/** What an event says of the line that made it; events made by silence (a stall) have no `source`. */
export type Source = Pick<WatchEvent, 'file' | 'offset' | 'line' | 'source'>;

export interface RequestLine {
  method: string;
  path: string;
  status: number;
  time: number;
  durationMs: number;
  host: string;
  user: string | null;
  /** The Rails request-id tag, for a request told from the Rails log. */
  tag: string | null;
  /** The Rails request it is, for a request told from the Rails log. */
  rails: RailsRequest | null;
  src: Source;
  record: AccessRecord | LoggerRecord;
}

export function initialTrackerState(nextEventId = 1): TrackerState {
  return {
    nextEventId,
    active: null,
    operations: [],
    latestRestore: null,
    latestBackup: null,
    lastOperationId: null,
    lastOperationMs: null,
    operationCount: 0,
    recentIds: [],
    clock: null,
    pid: null,
    held: [],
    heldChars: 0,
    requests: [],
    restart: null,
    failedByPolls: null,
    refusal: null,
    lastRequest: null,
  };
}

/**
 * A state from a checkpoint written by an earlier version, completed with the
 * fields it lacks (an operation it had active stays active).
 */
export function upgradeTrackerState(loaded: TrackerState): TrackerState {
  const s = change(initialTrackerState(loaded.nextEventId), loaded);
  if (!Array.isArray(loaded.operations)) s.operations = loaded.active != null ? [loaded.active] : [];
  s.operations = s.operations.map((a) => ({
    ...a,
    requestId: a.requestId ?? null,
    pendingError: a.pendingError ?? null,
    failingPolls: a.failingPolls ?? null,
    deferredPolls: a.deferredPolls ?? [],
    pid: a.pid ?? null,
    op: upgradeOperation(a.op),
  }));
  s.active = s.operations[0] ?? null;
  return s;
}

function upgradeOperation(op: Operation): Operation {
  return {
    ...op,
    requestSeen: op.requestSeen ?? true,
    requestedByUser: op.requestedByUser ?? null,
    failedPolls: op.failedPolls ?? {},
    phase: op.phase ?? null,
    namedBackupId: op.namedBackupId ?? null,
    warnings: op.warnings ?? [],
  };
}

/**
 * The state with the clock moved on. Nearly every record does this, so it is
 * spelled out: a spread (`{ ...s, clock }`) of states built in different places
 * takes V8's slow path and was the tracker's main cost.
 */
export function withClock(s: TrackerState, clock: number): TrackerState {
  return withClockAndHeld(s, clock, s.held, s.heldChars);
}

/** The state with other held records: most logger lines while nothing runs. */
export function withHeld(s: TrackerState, held: HeldRecord[], heldChars: number): TrackerState {
  return withClockAndHeld(s, s.clock, held, heldChars);
}

function withClockAndHeld(s: TrackerState, clock: number | null, held: HeldRecord[], heldChars: number): TrackerState {
  return {
    nextEventId: s.nextEventId,
    active: s.active,
    operations: s.operations,
    latestRestore: s.latestRestore,
    latestBackup: s.latestBackup,
    lastOperationId: s.lastOperationId,
    lastOperationMs: s.lastOperationMs,
    operationCount: s.operationCount,
    recentIds: s.recentIds,
    clock,
    pid: s.pid,
    held,
    heldChars,
    requests: s.requests,
    restart: s.restart,
    failedByPolls: s.failedByPolls,
    refusal: s.refusal,
    lastRequest: s.lastRequest,
  };
}

/**
 * The state after the event of `op`, with `operations` active: every event does this, so it is
 * spelled out as `withClock` is. The next event id moves on and `op` is the latest of its kind.
 */
export function withEmitted(s: TrackerState, operations: ActiveOperation[], op: Operation): TrackerState {
  return {
    nextEventId: s.nextEventId + 1,
    active: operations[0] ?? null,
    operations,
    latestRestore: op.kind === 'restore' ? op : s.latestRestore,
    latestBackup: op.kind === 'backup' ? op : s.latestBackup,
    lastOperationId: s.lastOperationId,
    lastOperationMs: s.lastOperationMs,
    operationCount: s.operationCount,
    recentIds: s.recentIds,
    clock: s.clock,
    pid: s.pid,
    held: s.held,
    heldChars: s.heldChars,
    requests: s.requests,
    restart: s.restart,
    failedByPolls: s.failedByPolls,
    refusal: s.refusal,
    lastRequest: s.lastRequest,
  };
}

/**
 * The state with `c`'s fields changed. Every state is built here (or, spelled out, in
 * `withClockAndHeld` and `withEmitted`) so that all have one shape: states of mixed shapes
 * make V8 take its slow path on every field read.
 */
export function change(s: TrackerState, c: Partial<TrackerState>): TrackerState {
  return {
    nextEventId: c.nextEventId ?? s.nextEventId,
    active: c.active !== undefined ? c.active : s.active,
    operations: c.operations ?? s.operations,
    latestRestore: c.latestRestore !== undefined ? c.latestRestore : s.latestRestore,
    latestBackup: c.latestBackup !== undefined ? c.latestBackup : s.latestBackup,
    lastOperationId: c.lastOperationId !== undefined ? c.lastOperationId : s.lastOperationId,
    lastOperationMs: c.lastOperationMs !== undefined ? c.lastOperationMs : s.lastOperationMs,
    operationCount: c.operationCount ?? s.operationCount,
    recentIds: c.recentIds ?? s.recentIds,
    clock: c.clock !== undefined ? c.clock : s.clock,
    pid: c.pid !== undefined ? c.pid : s.pid,
    held: c.held ?? s.held,
    heldChars: c.heldChars ?? s.heldChars,
    requests: c.requests ?? s.requests,
    restart: c.restart !== undefined ? c.restart : s.restart,
    failedByPolls: c.failedByPolls !== undefined ? c.failedByPolls : s.failedByPolls,
    refusal: c.refusal !== undefined ? c.refusal : s.refusal,
    lastRequest: c.lastRequest !== undefined ? c.lastRequest : s.lastRequest,
  };
}

const MAX_RECENT_IDS = 64;

/**
 * `restore-20181120T121230Z`: the request's second. When that id may have been
 * made before (two requests in one second, or a clock that stepped back), the
 * operation's number in the log is added (`-2`), so ids never repeat and every
 * replay of the same log gives the same ones. Whether it may have been is known
 * from the ids of the recent request times, and, past those, from whether the
 * time is after the latest one an id was made for.
 */
export function operationId(
  state: Pick<TrackerState, 'lastOperationMs' | 'operationCount' | 'recentIds'>,
  kind: OperationKind,
  time: number,
): { id: string; lastOperationMs: number; recentIds: string[] } {
  const base = `${kind}-${iso(time).slice(0, 19).replace(/[-:]/g, '')}Z`;
  const last = state.lastOperationMs;
  const later = last === null || Math.floor(time / 1000) > Math.floor(last / 1000);
  const known = state.operationCount <= MAX_RECENT_IDS;
  const repeated = state.recentIds.includes(base) || (!later && !known);
  const recentIds = [...state.recentIds, base].slice(-MAX_RECENT_IDS);
  return {
    id: repeated ? `${base}-${state.operationCount + 1}` : base,
    lastOperationMs: last === null || time > last ? time : last,
    recentIds,
  };
}

/** The state with the next operation id handed out (`lastOperationId`) and counted. */
export function withOperationId(state: TrackerState, kind: OperationKind, time: number): TrackerState {
  const { id, lastOperationMs, recentIds } = operationId(state, kind, time);
  return change(state, { lastOperationId: id, lastOperationMs, recentIds, operationCount: state.operationCount + 1 });
}
