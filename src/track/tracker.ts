/**
 * The restore tracker: a reducer from (state, record) or (state, now) to
 * (state, events). It decides which lines start, advance, stall and end a restore
 * or backup, and numbers the events. Time is always an argument (a record's own
 * timestamp, or `now` for a tick), so a replay of the same log gives the same
 * events with the same ids, and the state is plain JSON that a checkpoint can hold.
 *
 * At most one operation is active at a time, as the backup-agent runs one job at
 * a time. A new request answered 2xx while one is active supersedes it: the
 * earlier one ends `failed` with a message naming its successor, because it did
 * not finish and nothing will report on it again. A refused request (non-2xx) is
 * an operation of its own that fails at once and leaves the active one alone.
 */
import {
  isTerminal,
  type AccessRecord,
  type EventType,
  type LoggerRecord,
  type LogRecord,
  type Operation,
  type OperationKind,
  type WatchEvent,
} from '../model.js';
import { formatDuration, iso } from '../format.js';
import { matchesRequest, type TrackerRules } from './rules.js';

export interface ActiveOperation {
  op: Operation;
  requestedMs: number;
  lastActivityMs: number;
}

export interface TrackerState {
  /** The id the next event gets. */
  nextEventId: number;
  active: ActiveOperation | null;
  latestRestore: Operation | null;
  latestBackup: Operation | null;
  /** The last operation id handed out, to keep ids unique within one second. */
  lastOperationId: string | null;
  /** The latest time seen on the log's clock. */
  clock: number | null;
}

export interface TrackResult {
  state: TrackerState;
  events: WatchEvent[];
}

/** Events carry at most this much of their source line. */
export const MAX_EVENT_LINE_CHARS = 4096;

export function initialTrackerState(nextEventId = 1): TrackerState {
  return {
    nextEventId,
    active: null,
    latestRestore: null,
    latestBackup: null,
    lastOperationId: null,
    clock: null,
  };
}

/** Feeds one record to the tracker. */
export function trackRecord(state: TrackerState, record: LogRecord, rules: TrackerRules): TrackResult {
  if (record.kind === 'unknown') return { state, events: [] };
  const events: WatchEvent[] = [];
  let s = state;
  // The log's own clock: a silence is noticed when a later line shows time has passed.
  if (s.active !== null) s = stallIfSilent(s, record.time, source(record), rules, events);
  if (s.clock === null || record.time > s.clock) s = withClock(s, record.time);
  s = record.kind === 'access' ? onAccess(s, record, rules, events) : onLogger(s, record, rules, events);
  return { state: s, events };
}

/**
 * The state with the clock moved on. Nearly every record does this, so it is
 * spelled out: a spread (`{ ...s, clock }`) of states built in different places
 * takes V8's slow path and was the tracker's main cost.
 */
function withClock(s: TrackerState, clock: number): TrackerState {
  return {
    nextEventId: s.nextEventId,
    active: s.active,
    latestRestore: s.latestRestore,
    latestBackup: s.latestBackup,
    lastOperationId: s.lastOperationId,
    clock,
  };
}

/**
 * Advances the tracker's clock to `now` without a record: how a live agent notices
 * that an active operation has gone quiet. `now` must be on the log's clock.
 */
export function trackTick(state: TrackerState, now: number, rules: TrackerRules): TrackResult {
  if (state.active === null) return { state, events: [] };
  const events: WatchEvent[] = [];
  const s = stallIfSilent(state, now, { file: '', offset: -1, line: '' }, rules, events);
  return { state: s, events };
}

function stallIfSilent(
  state: TrackerState,
  now: number,
  src: EventSource,
  rules: TrackerRules,
  events: WatchEvent[],
): TrackerState {
  const active = state.active!;
  if (active.op.state === 'stalled') return state;
  const stallAt = active.lastActivityMs + rules.stallAfterMs;
  if (now < stallAt) return state;
  const op: Operation = { ...active.op, state: 'stalled' };
  const message = `no activity for ${formatDuration(rules.stallAfterMs)} since ${iso(active.lastActivityMs).slice(0, 19)}Z`;
  return emit(state, { ...active, op }, 'stalled', stallAt, src, message, events);
}

function onAccess(state: TrackerState, r: AccessRecord, rules: TrackerRules, events: WatchEvent[]): TrackerState {
  const kind: OperationKind | null = matchesRequest(rules.restoreRequest, r.method, r.path)
    ? 'restore'
    : matchesRequest(rules.backupRequest, r.method, r.path)
      ? 'backup'
      : null;
  if (kind !== null) return onRequest(state, kind, r, events);
  const active = state.active;
  if (active === null || !rules.progressRequests.some((m) => matchesRequest(m, r.method, r.path))) return state;
  const op: Operation = {
    ...active.op,
    state: 'running',
    orderPolls: active.op.orderPolls + 1,
    lastActivityAt: iso(r.time),
  };
  const message = `${r.method} ${r.path} answered ${r.status}`;
  return emit(state, { ...active, op, lastActivityMs: r.time }, 'progress', r.time, source(r), message, events);
}

function onRequest(state: TrackerState, kind: OperationKind, r: AccessRecord, events: WatchEvent[]): TrackerState {
  const id = nextOperationId(state.lastOperationId, kind, r.time);
  let s: TrackerState = { ...state, lastOperationId: id };
  const accepted = r.status >= 200 && r.status < 300;
  const base: Operation = {
    kind,
    id,
    state: 'requested',
    requestedAt: iso(r.time),
    requestedBy: r.host,
    requestStatus: r.status,
    finishedAt: null,
    lastActivityAt: iso(r.time),
    durationMs: null,
    orderPolls: 0,
    messages: 0,
    lastMessage: null,
    failure: null,
  };
  const fresh: ActiveOperation = { op: base, requestedMs: r.time, lastActivityMs: r.time };
  if (!accepted) {
    const failure = `${kind} request refused: ${r.method} ${r.path} answered ${r.status}`;
    const op: Operation = { ...base, state: 'failed', finishedAt: iso(r.time), durationMs: 0, failure };
    // A refused request never becomes the active operation.
    const keep = s.active;
    s = emit(s, { ...fresh, op }, 'failed', r.time, source(r), failure, events);
    return { ...s, active: keep };
  }
  if (s.active !== null) {
    const prev = s.active;
    const failure = `superseded by ${id}, requested at ${iso(r.time)} before this ${prev.op.kind} finished`;
    const op: Operation = {
      ...prev.op,
      state: 'failed',
      finishedAt: iso(r.time),
      durationMs: r.time - prev.requestedMs,
      failure,
    };
    s = emit(s, { ...prev, op }, 'failed', r.time, source(r), failure, events);
  }
  const message = `${kind} requested by ${r.host}: ${r.method} ${r.path} answered ${r.status}`;
  return emit(s, fresh, 'requested', r.time, source(r), message, events);
}

function onLogger(state: TrackerState, r: LoggerRecord, rules: TrackerRules, events: WatchEvent[]): TrackerState {
  const active = state.active;
  if (active === null) return state;
  const message = r.message;
  const firstLine = firstLineOf(message);
  const at = iso(r.time);
  const common = {
    ...active.op,
    lastActivityAt: at,
    messages: active.op.messages + 1,
    lastMessage: firstLine,
  };
  const next = (op: Operation): ActiveOperation => ({ ...active, op, lastActivityMs: r.time });
  if (rules.successMessages.some((re) => re.test(message))) {
    const op: Operation = { ...common, state: 'succeeded', finishedAt: at, durationMs: r.time - active.requestedMs };
    return emit(state, next(op), 'succeeded', r.time, source(r), message, events);
  }
  if (rules.failureSeverities.has(r.severity) || rules.failureMessages.some((re) => re.test(message))) {
    const op: Operation = {
      ...common,
      state: 'failed',
      finishedAt: at,
      durationMs: r.time - active.requestedMs,
      failure: message,
    };
    return emit(state, next(op), 'failed', r.time, source(r), message, events);
  }
  const op: Operation = { ...common, state: 'running' };
  return emit(state, next(op), 'progress', r.time, source(r), message, events);
}

/** Appends the event for `next`'s new state and files the operation under active/latest. */
function emit(
  state: TrackerState,
  next: ActiveOperation,
  step: 'requested' | 'progress' | 'stalled' | 'succeeded' | 'failed',
  time: number,
  src: EventSource,
  message: string,
  events: WatchEvent[],
): TrackerState {
  const op = next.op;
  const event: WatchEvent = {
    id: state.nextEventId,
    type: `${op.kind}.${step}` as EventType,
    time: iso(time),
    ...(op.kind === 'restore' ? { restoreId: op.id } : { backupId: op.id }),
    state: op.state,
    file: src.file,
    offset: src.offset,
    ...(src.source !== undefined ? { source: src.source } : {}),
    line: src.line,
    message,
    operation: op,
  };
  events.push(event);
  const ended = isTerminal(op.state);
  const isActive = state.active !== null && state.active.op.id === op.id;
  return {
    ...state,
    nextEventId: state.nextEventId + 1,
    active: ended ? (isActive ? null : state.active) : next,
    latestRestore: op.kind === 'restore' ? op : state.latestRestore,
    latestBackup: op.kind === 'backup' ? op : state.latestBackup,
  };
}

/** What an event says of the line that made it; a stall, made by silence, has no source. */
type EventSource = Pick<WatchEvent, 'file' | 'offset' | 'line' | 'source'>;

function source(r: AccessRecord | LoggerRecord): EventSource {
  const text = r.line.text;
  return {
    file: r.line.file,
    offset: r.line.offset,
    source: { path: r.line.file, identity: r.line.identity, offset: r.line.offset },
    line: text.length > MAX_EVENT_LINE_CHARS ? text.slice(0, MAX_EVENT_LINE_CHARS) : text,
  };
}

/** `restore-20181120T121230Z`, with `-2`, `-3` … for more requests in the same second. */
export function nextOperationId(last: string | null, kind: OperationKind, time: number): string {
  const base = `${kind}-${iso(time).slice(0, 19).replace(/[-:]/g, '')}Z`;
  if (last === null || !last.startsWith(base)) return base;
  const rest = last.slice(base.length);
  const n = rest === '' ? 1 : Number(rest.slice(1));
  return `${base}-${n + 1}`;
}

function firstLineOf(message: string): string {
  const nl = message.indexOf('\n');
  return nl === -1 ? message : message.slice(0, nl);
}
