/**
 * The restore tracker: a reducer from (state, record) or (state, now) to
 * (state, events). It decides which lines start, advance, stall and end a restore
 * or backup, and numbers the events. Time is always an argument (a record's own
 * timestamp, or `now` for a tick), so a replay of the same log gives the same
 * events with the same ids, and the state is plain JSON that a checkpoint can hold.
 *
 * How a line is told (docs/explain.md walks through an example):
 *
 * - A request line (an access line, or a Rails `Completed` for a `Started` when no
 *   access line repeats it) matching a start rule starts an operation; refused
 *   (non-2xx), it is requested and failed at once. A second operation of the same
 *   kind supersedes the first (the agent runs one restore at a time); a restore
 *   and a backup may overlap.
 * - Rack writes an access line after its response, so what the handler logged
 *   comes first. Logger records are therefore held back briefly (bounded in count
 *   and bytes) until the next request line: records inside that request's time
 *   window (its time minus its duration) belong to it. A start request takes them
 *   into its operation; another request (a 404, a favicon) takes its errors, which
 *   then never touch an operation. Rails request-id tags attribute at once.
 * - A record no request took goes to the operation it names (a backup id, a phase
 *   of one kind), else to the operation that started first.
 * - An error (a failing severity) is an `*.error` event at once; the operation
 *   fails if no success follows within the grace (on the log's clock), with
 *   `finishedAt` the error's time. A success after an error succeeds, the error
 *   kept as a warning. Order polls answered with trouble (404, 5xx) are `*.error`
 *   events, not progress, and fail the operation after the grace.
 * - A new process (a new pid in logger lines, a server banner) ends every active
 *   operation `failed`: the agent that ran it is gone.
 * - Silence for `stallAfterMs` on the log's clock makes an operation `stalled`.
 *
 * Length: one reducer whose handlers call one another in both directions (a
 * request line claims held records, whose errors can end the operations requests
 * started; a banner fails them; a tick settles verdicts): split into modules it
 * would form import cycles, so its sections are marked instead, in the order a
 * record meets them.
 */
import {
  isTerminal,
  type AccessRecord,
  type BannerRecord,
  type EventType,
  type ExceptionRecord,
  type LoggerRecord,
  type LogRecord,
  type Operation,
  type OperationKind,
  type WatchEvent,
} from '../model.js';
import { formatDuration, iso } from '../format.js';
import { findRequest, pollFails, type RequestMatcher, type TrackerRules } from './rules.js';

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
const MAX_RAILS_REQUESTS = 16;
const MAX_WARNINGS = 5;
/** Rack writes whole seconds: an access line's real time is up to a second after the one written. */
const SECOND = 1000;

/** What an event says of the line that made it; events made by silence (a stall) have no `source`. */
export type Source = Pick<WatchEvent, 'file' | 'offset' | 'line' | 'source'>;

interface Ctx {
  rules: TrackerRules;
  events: WatchEvent[];
  decisions: Decision[] | null;
  /** The operations the request line being told was told to. */
  toldTo?: string[];
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

/** Feeds one record to the tracker. */
export function trackRecord(state: TrackerState, record: LogRecord, rules: TrackerRules, options: TrackOptions = {}): TrackResult {
  // Most records make no event: the array is made by the first one that does.
  const ctx: Ctx = { rules, events: NO_EVENTS, decisions: options.decisions ?? null };
  if (record.kind === 'unknown') {
    decide(ctx, record, null, `not recognised (${record.reason})`);
    return { state, events: ctx.events };
  }
  const time = record.time ?? state.clock ?? 0;
  let s = state;
  if (s.refusal !== null && !(record.kind === 'logger' && record.tags.includes(s.refusal.tag!))) s = tellRefusal(s, ctx);
  if (s.restart !== null && record.kind !== 'banner') {
    s = s.restart.ended ? change(s, { restart: null  }) : record.time !== null ? restartNow(s, record.time, ctx) : s;
  }
  if (s.failedByPolls !== null && record.kind === 'access' && s.operations.length > 0) s = change(s, { failedByPolls: null  });
  if (s.operations.length > 0) {
    // The log's own clock: what was held is told, a silence is noticed and verdicts fall due when a later line shows time has passed.
    s = releaseHeld(s, time - HOLD_MS, ctx);
    s = stallIfSilent(s, time, source(record), ctx);
    s = settle(s, time, ctx);
  } else if (s.held.length > 0) {
    s = releaseHeld(s, time - IDLE_HOLD_MS, ctx);
  }
  if (s.clock !== time) s = withClock(s, time);
  switch (record.kind) {
    case 'access':
      s = onAccess(s, record, ctx);
      break;
    case 'logger':
      s = onLogger(s, record, ctx);
      break;
    case 'exception':
      s = hold(s, record, ctx);
      break;
    case 'banner':
      s = onBanner(s, record, time, ctx);
      break;
    case 'echo': {
      const last = s.lastRequest;
      const why = `repeats the request line before it (${record.server}'s own log)`;
      if (last === null || last.path !== record.path || last.toldTo.length === 0) decide(ctx, record, null, why);
      else for (const id of last.toldTo) decide(ctx, record, id, why);
      break;
    }
  }
  return { state: s, events: ctx.events };
}

/**
 * Advances the tracker's clock to `now` without a record: how a live agent notices
 * that an active operation has gone quiet, tells what it held back, and reaches a
 * verdict whose grace has passed. `now` must be on the log's clock.
 */
export function trackTick(state: TrackerState, now: number, rules: TrackerRules, options: TrackOptions = {}): TrackResult {
  if (state.operations.length === 0 && state.refusal === null && state.held.length === 0) return { state, events: [] };
  const ctx: Ctx = { rules, events: [], decisions: options.decisions ?? null };
  let s = state.refusal !== null && now - state.refusal.time >= HOLD_MS ? tellRefusal(state, ctx) : state;
  s = releaseHeld(s, now - (s.operations.length > 0 ? HOLD_MS : IDLE_HOLD_MS), ctx);
  s = stallIfSilent(s, now, NO_SOURCE, ctx);
  s = settle(s, now, ctx);
  return { state: s, events: ctx.events };
}

/**
 * The input is complete (`replay` at the end of the file): what is held is told,
 * and a pending verdict is settled now, as its grace would have run out with
 * nothing more to come. Operations with nothing pending stay as they are.
 */
export function trackEnd(state: TrackerState, rules: TrackerRules, options: TrackOptions = {}): TrackResult {
  const ctx: Ctx = { rules, events: [], decisions: options.decisions ?? null };
  let s = state.restart !== null && !state.restart.ended ? restartNow(state, state.clock ?? 0, ctx) : state;
  if (s.refusal !== null) s = tellRefusal(s, ctx);
  s = releaseHeld(s, Infinity, ctx);
  s = settle(s, Infinity, ctx);
  return { state: s, events: ctx.events };
}

/**
 * A file ended (rotated away, or its end reached with nothing after it for now):
 * the records held back for a request line are told, as no line of this file
 * will claim them. Verdicts still wait for their grace.
 */
export function trackFileEnd(state: TrackerState, rules: TrackerRules, options: TrackOptions = {}): TrackResult {
  if (state.held.length === 0 && state.refusal === null) return { state, events: [] };
  const ctx: Ctx = { rules, events: [], decisions: options.decisions ?? null };
  const s = releaseHeld(state.refusal !== null ? tellRefusal(state, ctx) : state, Infinity, ctx);
  return { state: s, events: ctx.events };
}

/** Tells the refusal Rails answered, with the lines tagged with its request id. */
function tellRefusal(state: TrackerState, ctx: Ctx): TrackerState {
  const q = state.refusal!;
  const [claimed, s0] = takeHeld(change(state, { refusal: null }), (h) => h.kind === 'logger' && h.tags.includes(q.tag!));
  return onStart(releaseHeld(s0, Infinity, ctx), q.kind, q.rule, q, claimed, ctx);
}

/** Fails the operations a time-less banner ended, at `time`: the first time seen after it. */
function restartNow(state: TrackerState, time: number, ctx: Ctx): TrackerState {
  const restart = state.restart!;
  let s: TrackerState = change(state, { restart: { ...restart, ended: true }  });
  for (const active of state.operations) {
    if (!restart.operations.includes(active.op.id)) continue;
    s = fail(s, active, time, time, restart.src, restart.message.replace('{kind}', active.op.kind), ctx);
  }
  return s;
}

/**
 * The state with the clock moved on. Nearly every record does this, so it is
 * spelled out: a spread (`{ ...s, clock }`) of states built in different places
 * takes V8's slow path and was the tracker's main cost.
 */
function withClock(s: TrackerState, clock: number): TrackerState {
  return withClockAndHeld(s, clock, s.held, s.heldChars);
}

/** The state with other held records: most logger lines while nothing runs. */
function withHeld(s: TrackerState, held: HeldRecord[], heldChars: number): TrackerState {
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
 * The state with `c`'s fields changed. Every state is built here (or in the two
 * spelled-out copies below) so that all have one shape: states of mixed shapes
 * make V8 take its slow path on every field read.
 */
function change(s: TrackerState, c: Partial<TrackerState>): TrackerState {
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

// ---------------------------------------------------------------------------
// Time: stalls and verdicts

function stallIfSilent(state: TrackerState, now: number, src: Source, ctx: Ctx): TrackerState {
  let s = state;
  for (const active of state.operations) {
    if (active.op.state === 'stalled') continue;
    const stallAt = active.lastActivityMs + ctx.rules.stallAfterMs;
    if (now < stallAt) continue;
    const op: Operation = { ...active.op, state: 'stalled' };
    const message = `no activity for ${formatDuration(ctx.rules.stallAfterMs)} since ${iso(active.lastActivityMs).slice(0, 19)}Z`;
    s = emit(s, { ...active, op }, 'stalled', stallAt, src, message, ctx);
  }
  return s;
}

/** Fails the operations whose pending error or failing polls have outlived the grace by `now`. */
function settle(state: TrackerState, now: number, ctx: Ctx): TrackerState {
  let s = state;
  const grace = ctx.rules.failureGraceMs;
  for (const active of state.operations) {
    const due = [active.pendingError, active.failingPolls].filter((p): p is PendingFailure => p !== null && now > p.atMs + grace);
    if (due.length === 0) continue;
    // The verdict comes late, but the failure happened when the failing record was logged.
    const first = due.reduce((a, b) => (b.atMs < a.atMs ? b : a));
    for (const p of active.deferredPolls) {
      decideAt(ctx, p, 'access', null, `answered after the error that failed ${active.op.id}`);
    }
    s = fail(s, active, first.atMs, first.atMs, first.src, first.message, ctx);
    if (first === active.failingPolls) s = change(s, { failedByPolls: active.op.id  });
  }
  return s;
}

// ---------------------------------------------------------------------------
// Request lines

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

function onAccess(state: TrackerState, r: AccessRecord, ctx: Ctx): TrackerState {
  // Most lines of a production.log are order polls and status checks while nothing runs: told without allocating.
  // Told as the general path below would tell them: nothing held could begin an operation or be this request's error.
  if (
    state.operations.length === 0 &&
    (state.held.length === 0 || (state.operationCount > 0 && !heldTroubleWithin(state.held, r))) &&
    state.requests.length === 0 &&
    state.failedByPolls === null &&
    state.lastRequest === null
  ) {
    const rules = ctx.rules;
    if (findRequest(rules.restoreRequests, r.method, r.path) === null && findRequest(rules.backupRequests, r.method, r.path) === null) {
      if (ctx.decisions !== null) {
        const poll = findRequest(rules.progressRequests, r.method, r.path);
        decide(ctx, r, null, poll !== null ? `${poll.name}: no operation active` : `no rule for ${r.method} ${r.path}`);
      }
      return state;
    }
  }
  const railsTwin = state.requests.length === 0 ? -1 : state.requests.findIndex(
    (q) =>
      !q.seenInAccessLog &&
      q.completedMs !== null &&
      q.method === r.method &&
      q.path === r.path &&
      q.status === r.status &&
      r.time >= q.completedMs - 2 * SECOND &&
      r.time <= q.completedMs + 2 * SECOND,
  );
  if (railsTwin !== -1) {
    const requests = state.requests.slice();
    requests[railsTwin] = { ...requests[railsTwin]!, seenInAccessLog: true };
    const twin = requests[railsTwin]!;
    const why = `already counted from the Rails request log (${twin.method} ${twin.path} ${twin.status})`;
    if (twin.toldTo.length === 0) decide(ctx, r, null, why);
    for (const id of twin.toldTo) decide(ctx, r, id, why);
    return change(state, { requests  });
  }
  return onRequestLine(
    state,
    {
      method: r.method,
      path: r.path,
      status: r.status,
      time: r.time,
      durationMs: r.durationSeconds * 1000,
      host: r.host,
      user: r.user,
      tag: null,
      rails: null,
      src: source(r),
      record: r,
    },
    ctx,
  );
}

function onRequestLine(state: TrackerState, q: RequestLine, ctx: Ctx): TrackerState {
  ctx.toldTo = [];
  const s = tellRequestLine(state, q, ctx);
  const toldTo = ctx.toldTo;
  if (toldTo.length === 0 && s.lastRequest === null) return s;
  return change(s, { lastRequest: toldTo.length === 0 ? null : { path: q.path, toldTo } });
}

function tellRequestLine(state: TrackerState, q: RequestLine, ctx: Ctx): TrackerState {
  const { rules } = ctx;
  const restore = findRequest(rules.restoreRequests, q.method, q.path);
  const start = restore ?? findRequest(rules.backupRequests, q.method, q.path);
  // What the handler logged came first: records in the request's window (or with its tag) are its own.
  const inWindow = (h: HeldRecord): boolean =>
    q.tag !== null ? h.kind === 'logger' && h.tags.includes(q.tag) : h.time >= q.time - q.durationMs - 1 && h.time < q.time + SECOND;
  if (start !== null) {
    const kind: OperationKind = restore !== null ? 'restore' : 'backup';
    if (q.rails !== null && q.tag !== null && (q.status < 200 || q.status >= 300)) {
      // Rails logs the exception after `Completed`: the refusal waits for it.
      return change(state, { refusal: { ...q, kind, rule: start.name } });
    }
    const [claimed, s0] = takeHeld(state, inWindow);
    const s1 = releaseHeld(s0, Infinity, ctx);
    return onStart(s1, kind, start.name, q, claimed, ctx);
  }
  const poll = findRequest(rules.progressRequests, q.method, q.path);
  if (poll !== null) {
    // What came before a poll is told first; while nothing runs it stays held for a request that
    // may start something, unless it could itself begin an operation (see `tell`).
    const s0 = state.operations.length > 0 || state.operationCount === 0 ? releaseHeld(state, Infinity, ctx) : state;
    return onPoll(s0, poll, q, ctx);
  }
  // Another request (a status check, a 404): its errors are its own, never an operation's.
  const [claimed, s0] = takeHeld(state, (h) => inWindow(h) && isTrouble(h));
  if (ctx.decisions !== null) {
    for (const h of claimed) decide(ctx, h, null, `belongs to request ${q.method} ${q.path} ${q.status} (logged within its time window)`);
    decide(ctx, q.record, null, `no rule for ${q.method} ${q.path}`);
  }
  return state.held.length > 0 && s0.operations.length > 0 ? releaseHeld(s0, Infinity, ctx) : s0;
}

function onStart(
  state: TrackerState,
  kind: OperationKind,
  rule: string,
  q: RequestLine,
  claimed: HeldRecord[],
  ctx: Ctx,
): TrackerState {
  // The request began when its handler first logged, if that was before the (whole-second) request line.
  let startMs = q.rails?.startedMs ?? q.time;
  for (const h of claimed) if (h.time < startMs) startMs = h.time;
  let s = withOperationId(state, kind, startMs);
  const id = s.lastOperationId!;
  const base = newOperation(kind, id, startMs, q.host, q.user, q.status);
  const fresh: ActiveOperation = {
    op: base,
    requestedMs: startMs,
    lastActivityMs: startMs,
    requestId: q.tag,
    pendingError: null,
    failingPolls: null,
    deferredPolls: [],
    pid: q.rails?.pid ?? claimed.find((h): h is LoggerRecord => h.kind === 'logger')?.pid ?? null,
  };
  if (q.rails !== null) {
    s = linkRequest(s, q.rails, id, [id]);
    decideAt(ctx, q.rails, 'logger', id, `Rails request started: ${q.method} ${q.path}, ${rule}`);
  }
  const named = claimed.map((h) => namedBackup(ctx.rules, h.message)).find((n) => n !== null) ?? null;
  const who = q.user !== null ? `${q.user} at ${q.host}` : q.host;
  const accepted = q.status >= 200 && q.status < 300;
  if (!accepted) {
    // A refused request has a beginning and an end at the same moment, and never becomes active.
    decide(ctx, q.record, id, `${rule}: refused (${q.status})`);
    ctx.toldTo?.push(id);
    s = emit(s, fresh, 'requested', startMs, q.src, `${kind} requested by ${who}: ${q.method} ${q.path} answered ${q.status}`, ctx, false);
    const why = claimed.filter(isTrouble).map((h) => h.message);
    for (const h of claimed) decide(ctx, h, id, `logged within the window of the refused ${kind} request`);
    const failure = [`${kind} request refused: ${q.method} ${q.path} answered ${q.status}`, ...why].join('\n');
    const op: Operation = {
      ...base,
      state: 'failed',
      finishedAt: iso(q.time),
      durationMs: q.time - startMs,
      failure,
      namedBackupId: named?.id ?? null,
    };
    return emit(s, { ...fresh, op }, 'failed', q.time, q.src, failure, ctx, false);
  }
  const same = s.operations.find((a) => a.op.kind === kind);
  if (same !== undefined) {
    // The agent runs one job of a kind at a time: accepting another means the earlier one is over, unreported.
    const failure = `superseded by ${id}, requested at ${iso(q.time)} before this ${kind} finished`;
    s = fail(s, same, q.time, q.time, q.src, failure, ctx);
  }
  decide(ctx, q.record, id, rule);
  ctx.toldTo?.push(id);
  s = emit(s, fresh, 'requested', startMs, q.src, `${kind} requested by ${who}: ${q.method} ${q.path} answered ${q.status}`, ctx);
  for (const h of claimed) {
    const why = q.tag !== null ? `tagged with the request id ${q.tag}` : `logged within the ${kind} request's time window`;
    s = applyTo(s, id, h, why, ctx);
  }
  return s;
}

function onPoll(state: TrackerState, rule: RequestMatcher, q: RequestLine, ctx: Ctx): TrackerState {
  if (q.rails !== null) {
    const toldTo = state.operations.map((a) => a.op.id);
    state = linkRequest(state, q.rails, null, toldTo);
    const why = `Rails request started: ${q.method} ${q.path}, ${rule.name}`;
    if (toldTo.length === 0) decideAt(ctx, q.rails, 'logger', null, `${why}: no operation active`);
    for (const id of toldTo) decideAt(ctx, q.rails, 'logger', id, why);
  }
  const good = q.status >= 200 && q.status < 300;
  const trouble = !good && pollFails(ctx.rules, q.status);
  if (state.operations.length === 0) {
    if (trouble && state.failedByPolls !== null) {
      decide(ctx, q.record, state.failedByPolls, `${rule.name}: still answered ${q.status}, as when ${state.failedByPolls} failed`);
      return state;
    }
    decide(ctx, q.record, null, `${rule.name}: no operation active`);
    return state.failedByPolls !== null ? change(state, { failedByPolls: null  }) : state;
  }
  let s = state;
  for (const active of state.operations) {
    const message = `${q.method} ${q.path} answered ${q.status}`;
    if (good && active.pendingError !== null) {
      const deferredPolls = [...active.deferredPolls, { file: q.src.file, offset: q.src.offset }].slice(-MAX_HELD);
      s = replaceActive(s, { ...active, deferredPolls });
      continue;
    }
    decide(ctx, q.record, active.op.id, good ? rule.name : `${rule.name}: answered ${q.status}, not progress`);
    ctx.toldTo?.push(active.op.id);
    if (good) {
      // The one event of nearly every poll: copied field by field (see copyOperation), not spread.
      const op = copyOperation(active.op);
      op.state = 'running';
      op.orderPolls = active.op.orderPolls + 1;
      op.lastActivityAt = iso(q.time);
      const next = copyActive(active);
      next.op = op;
      next.lastActivityMs = q.time;
      next.failingPolls = null;
      s = emit(s, next, 'progress', q.time, q.src, message, ctx);
      continue;
    }
    const key = String(q.status);
    const failedPolls = { ...active.op.failedPolls, [key]: (active.op.failedPolls?.[key] ?? 0) + 1 };
    const op: Operation = { ...active.op, failedPolls };
    const since = active.failingPolls;
    const failingPolls: PendingFailure | null = !trouble
      ? since
      : since ?? {
          atMs: q.time,
          message: `order polls answered ${q.status} since ${iso(q.time).slice(0, 19)}Z`,
          rule: `pollFailureStatuses (${q.status})`,
          src: q.src,
        };
    s = emit(s, { ...active, op, failingPolls }, 'error', q.time, q.src, message, ctx);
  }
  return s;
}

// ---------------------------------------------------------------------------
// Logger records

const RAILS_STARTED = /^Started ([A-Z]+) "([^"?]*)(?:\?[^"]*)?" for (\S+) at /;
const RAILS_COMPLETED = /^Completed (\d{3}) .*? in (\d+(?:\.\d+)?)ms/;

function onLogger(state: TrackerState, r: LoggerRecord, ctx: Ctx): TrackerState {
  let s = state;
  if (s.pid !== r.pid) {
    // What the earlier process logged is told first, so each operation knows the process running it.
    if (s.operations.length > 0) s = releaseHeld(s, Infinity, ctx);
    // An operation whose own lines came from another process has lost it; one that has logged
    // nothing yet may be the new process's (the agent restarted before it was asked for).
    const gone = ctx.rules.restartOnNewPid ? s.operations.filter((a) => a.pid !== null && a.pid !== r.pid) : [];
    for (const a of gone) {
      decide(ctx, r, a.op.id, `restartOnNewPid: pid ${r.pid} is not pid ${a.pid}, which ran ${a.op.id}`);
      s = fail(s, a, r.time, r.time, source(r), `backup-agent restarted during the ${a.op.kind}: pid ${a.pid} gave way to pid ${r.pid}`, ctx);
    }
    s = change(s, { pid: r.pid  });
  }
  const m = r.message;
  if (m.charCodeAt(0) === 83 /* S */ && m.startsWith('Started ')) {
    const started = RAILS_STARTED.exec(m);
    if (started !== null) return onRailsStarted(s, r, started, ctx);
  } else if (m.charCodeAt(0) === 67 /* C */ && m.startsWith('Completed ')) {
    const completed = RAILS_COMPLETED.exec(m);
    if (completed !== null) return onRailsCompleted(s, r, Number(completed[1]), Number(completed[2]), ctx);
  }
  const request = r.tags.length > 0 ? findTagged(s, r) : null;
  if (request !== null) {
    if (request.operationId !== null) return applyTo(s, request.operationId, r, `tagged with the request id ${request.tag}`, ctx);
    const rules = ctx.rules;
    const isStart =
      findRequest(rules.restoreRequests, request.method, request.path) ?? findRequest(rules.backupRequests, request.method, request.path);
    const isPoll = findRequest(rules.progressRequests, request.method, request.path);
    if (isStart === null && isPoll === null) {
      decide(ctx, r, null, `belongs to request ${request.method} ${request.path} (tagged with its request id ${request.tag})`);
      return s;
    }
  } else if (r.tags.length === 0 && isTrouble(r)) {
    // An untagged Rails log: an error inside an open request that is not an operation's is that request's.
    const open = latestOpenRequest(s, r.pid);
    if (open !== null && open.operationId === null && !isOperationRequest(ctx.rules, open)) {
      decide(ctx, r, null, `belongs to request ${open.method} ${open.path} (logged while it was open)`);
      return s;
    }
  }
  if (s.operations.length > 0 && !isTrouble(r)) {
    // While an operation runs its progress is told at once (a watcher waits for its success);
    // what was held came first.
    return tell(releaseHeld(s, Infinity, ctx), r, ctx);
  }
  return hold(s, r, ctx);
}

function onRailsStarted(state: TrackerState, r: LoggerRecord, m: RegExpExecArray, ctx: Ctx): TrackerState {
  const request: RailsRequest = {
    tag: r.tags[0] ?? null,
    pid: r.pid,
    method: m[1]!,
    path: m[2]!,
    host: m[3]!,
    startedMs: r.time,
    operationId: null,
    toldTo: [],
    file: r.line.file,
    offset: r.line.offset,
    status: null,
    completedMs: null,
    seenInAccessLog: false,
  };
  const requests = [...state.requests, request];
  if (requests.length > MAX_RAILS_REQUESTS) requests.shift();
  // A request for an operation is told with it, when `Completed` says how it was answered.
  if (!isOperationRequest(ctx.rules, request)) decide(ctx, r, null, `Rails request started: ${request.method} ${request.path}: no rule for it`);
  return change(state, { requests  });
}

function onRailsCompleted(state: TrackerState, r: LoggerRecord, status: number, durationMs: number, ctx: Ctx): TrackerState {
  const tag = r.tags[0] ?? null;
  const index = findRequestIndex(state.requests, (q) => q.completedMs === null && (tag !== null ? q.tag === tag : q.pid === r.pid));
  if (index === -1) return hold(state, r, ctx);
  const requests = state.requests.slice();
  const request = { ...requests[index]!, status, completedMs: r.time };
  requests[index] = request;
  return onRequestLine(
    change(state, { requests  }),
    {
      method: request.method,
      path: request.path,
      status,
      time: r.time,
      durationMs,
      host: request.host,
      user: null,
      tag: request.tag,
      rails: request,
      src: source(r),
      record: r,
    },
    ctx,
  );
}

function onBanner(state: TrackerState, r: BannerRecord, time: number, ctx: Ctx): TrackerState {
  let s = releaseHeld(state, Infinity, ctx);
  const message = `backup-agent restarted during the {kind}: ${r.server} started${r.pid !== null ? ` (pid ${r.pid})` : ''}`;
  if (s.restart !== null) {
    // The rest of the same start-up banner.
    decide(ctx, r, s.restart.operations[0] ?? null, `${r.server} start-up banner: the restart that ends this operation`);
    if (r.pid !== null && !s.restart.ended) s = change(s, { restart: { ...s.restart, message }  });
  } else if (s.operations.length > 0 && r.time === null) {
    // Puma and Thin write no time: the operations end at the next line that has one.
    for (const a of s.operations) decide(ctx, r, a.op.id, `${r.server} start-up banner: the backup-agent restarted`);
    s = change(s, { restart: { message, src: source(r), operations: s.operations.map((a) => a.op.id), ended: false }  });
  } else if (s.operations.length > 0) {
    for (const a of s.operations) decide(ctx, r, a.op.id, `${r.server} start-up banner: the backup-agent restarted`);
    const operations = s.operations.map((a) => a.op.id);
    s = failAll(s, time, source(r), message, ctx);
    // The rest of the banner belongs to the same restart.
    s = change(s, { restart: { message, src: source(r), operations, ended: true }  });
  } else {
    decide(ctx, r, null, `${r.server} start-up banner: no operation active`);
  }
  return r.pid !== null ? change(s, { pid: r.pid  }) : s;
}

/** Keeps a record for the next request line to claim; what falls out of the bounds is told now. */
function hold(state: TrackerState, r: HeldRecord, ctx: Ctx): TrackerState {
  let s0 = state;
  // While nothing runs, a record is kept only for a request that may yet claim it.
  if (state.operations.length === 0 && state.held.length > 0 && state.held[0]!.time < r.time - IDLE_HOLD_MS) {
    s0 = releaseHeld(state, r.time - IDLE_HOLD_MS, ctx);
  }
  const held = s0.held.length === 0 ? [r] : [...s0.held, r];
  let heldChars = s0.heldChars + r.message.length + r.line.text.length;
  let s = withHeld(s0, held, heldChars);
  while (s.held.length > MAX_HELD || (s.heldChars > MAX_HELD_CHARS && s.held.length > 1)) {
    const oldest = s.held[0]!;
    heldChars = s.heldChars - oldest.message.length - oldest.line.text.length;
    s = tell(change(s, { held: s.held.slice(1), heldChars  }), oldest, ctx);
  }
  return s;
}

/** Tells every held record logged before `before`, oldest first. */
function releaseHeld(state: TrackerState, before: number, ctx: Ctx): TrackerState {
  if (state.held.length === 0 || state.held[0]!.time >= before) return state;
  if (state.operations.length === 0 && state.operationCount > 0 && ctx.decisions === null) {
    // Nothing is active and none can begin unrequested (see `tell`): telling them changes nothing; drop them in one step.
    let k = 0;
    let chars = state.heldChars;
    while (k < state.held.length && state.held[k]!.time < before) {
      chars -= state.held[k]!.message.length + state.held[k]!.line.text.length;
      k++;
    }
    return withHeld(state, state.held.slice(k), chars);
  }
  let s = state;
  while (s.held.length > 0 && s.held[0]!.time < before) {
    const oldest = s.held[0]!;
    s = change(s, { held: s.held.slice(1), heldChars: s.heldChars - oldest.message.length - oldest.line.text.length  });
    // A verdict that fell due before this record was logged comes first.
    if (s.operations.length > 0) s = settle(s, oldest.time, ctx);
    s = tell(s, oldest, ctx);
  }
  return s;
}

/** Takes the held records `claim` wants out of the buffer. */
function takeHeld(state: TrackerState, claim: (h: HeldRecord) => boolean): [HeldRecord[], TrackerState] {
  if (state.held.length === 0) return [[], state];
  const taken: HeldRecord[] = [];
  const kept: HeldRecord[] = [];
  let chars = state.heldChars;
  for (const h of state.held) {
    if (claim(h)) {
      taken.push(h);
      chars -= h.message.length + h.line.text.length;
    } else kept.push(h);
  }
  if (taken.length === 0) return [[], state];
  return [taken, change(state, { held: kept, heldChars: chars  })];
}

/** A record no request claimed: it goes to the operation it names, else the one that started first. */
function tell(state: TrackerState, r: HeldRecord, ctx: Ctx): TrackerState {
  const ops = state.operations;
  if (ops.length === 0) {
    // A log that begins in the middle of an operation (its request is in the previous file).
    const phase = state.operationCount === 0 ? ctx.rules.phases.find((p) => p.kind !== null && p.regex.test(r.message)) : undefined;
    if (phase !== undefined) {
      const s = startUnrequested(state, phase.kind!, r, ctx);
      return applyTo(s, s.lastOperationId!, r, `${phase.name} names a ${phase.kind} already running when the log begins`, ctx);
    }
    decide(ctx, r, null, 'no operation active');
    return state;
  }
  if (ops.length === 1) return applyTo(state, ops[0]!.op.id, r, 'the only active operation', ctx);
  const named = namedBackup(ctx.rules, r.message);
  if (named !== null) {
    const byName = ops.find((a) => a.op.namedBackupId === named.id);
    if (byName !== undefined) return applyTo(state, byName.op.id, r, `names backup ${named.id}, as this operation did before`, ctx);
    // a9s backup ids carry their creation time: a backup being made now is this one's; an older one is being restored.
    const making =
      named.createdMs !== null
        ? ops.find((a) => a.op.kind === 'backup' && a.op.namedBackupId === null && Math.abs(named.createdMs! - a.requestedMs) <= 10 * 60_000)
        : undefined;
    if (making !== undefined) return applyTo(state, making.op.id, r, `names backup ${named.id}, created when this backup was requested`, ctx);
    const restoring = ops.find((a) => a.op.kind === 'restore');
    if (restoring !== undefined) return applyTo(state, restoring.op.id, r, `names backup ${named.id}, older than the running backup`, ctx);
  }
  const phase = ctx.rules.phases.find((p) => p.kind !== null && p.regex.test(r.message));
  if (phase !== undefined) {
    const ofKind = ops.find((a) => a.op.kind === phase.kind);
    if (ofKind !== undefined) return applyTo(state, ofKind.op.id, r, `${phase.name} names a ${phase.kind}`, ctx);
  }
  return applyTo(state, ops[0]!.op.id, r, 'names no operation: the one that started first', ctx);
}

/** An operation whose request is not in the log: it begins where its first line is. */
function startUnrequested(state: TrackerState, kind: OperationKind, r: HeldRecord, ctx: Ctx): TrackerState {
  const s = withOperationId(state, kind, r.time);
  const id = s.lastOperationId!;
  const op: Operation = { ...newOperation(kind, id, r.time, '', null, 0), requestSeen: false };
  const fresh: ActiveOperation = { op, requestedMs: r.time, lastActivityMs: r.time, requestId: null, pendingError: null, failingPolls: null, deferredPolls: [], pid: r.kind === 'logger' ? r.pid : null };
  const message = `${kind} already running when the log begins: its request is not in this log`;
  return emit(s, fresh, 'requested', r.time, source(r), message, ctx);
}

function newOperation(kind: OperationKind, id: string, at: number, host: string, user: string | null, status: number): Operation {
  return {
    kind,
    id,
    state: 'requested',
    requestedAt: iso(at),
    requestSeen: true,
    requestedBy: host,
    requestedByUser: user,
    requestStatus: status,
    finishedAt: null,
    lastActivityAt: iso(at),
    durationMs: null,
    orderPolls: 0,
    failedPolls: {},
    messages: 0,
    lastMessage: null,
    failure: null,
    phase: null,
    namedBackupId: null,
    warnings: [],
  };
}

/**
 * A copy of `o` to change before it is stored. Spelled out because V8 copies an
 * operation spread (`{ ...o }`) on its slow path: 400 ns against 30, most of
 * what an order poll cost. `satisfies` makes a field added to Operation fail to
 * compile until it is copied here; the order is newOperation's, the order the
 * fields are printed in.
 */
function copyOperation(o: Operation): Operation {
  return {
    kind: o.kind,
    id: o.id,
    state: o.state,
    requestedAt: o.requestedAt,
    requestSeen: o.requestSeen,
    requestedBy: o.requestedBy,
    requestedByUser: o.requestedByUser,
    requestStatus: o.requestStatus,
    finishedAt: o.finishedAt,
    lastActivityAt: o.lastActivityAt,
    durationMs: o.durationMs,
    orderPolls: o.orderPolls,
    failedPolls: o.failedPolls,
    messages: o.messages,
    lastMessage: o.lastMessage,
    failure: o.failure,
    phase: o.phase,
    namedBackupId: o.namedBackupId,
    warnings: o.warnings,
  } satisfies Record<keyof Operation, unknown>;
}

/** A copy of `a` to change before it is stored, spelled out for the reason copyOperation is. */
function copyActive(a: ActiveOperation): ActiveOperation {
  return {
    op: a.op,
    requestedMs: a.requestedMs,
    lastActivityMs: a.lastActivityMs,
    requestId: a.requestId,
    pendingError: a.pendingError,
    failingPolls: a.failingPolls,
    deferredPolls: a.deferredPolls,
    pid: a.pid,
  } satisfies Record<keyof ActiveOperation, unknown>;
}

/** What a record does to the operation it belongs to. */
function applyTo(state: TrackerState, id: string, r: HeldRecord, why: string, ctx: Ctx): TrackerState {
  const active = state.operations.find((a) => a.op.id === id);
  if (active === undefined) {
    decide(ctx, r, null, `${why}, but ${id} had already ended`);
    return state;
  }
  const { rules } = ctx;
  const message = r.message;
  const firstLine = firstLineOf(message);
  const named = namedBackup(rules, message);
  const phase = rules.phases.find((p) => (p.kind === null || p.kind === active.op.kind) && p.regex.test(message));
  const common: Operation = {
    ...active.op,
    lastActivityAt: iso(r.time),
    messages: active.op.messages + 1,
    lastMessage: firstLine,
    phase: phase?.phase ?? active.op.phase,
    namedBackupId: active.op.namedBackupId ?? named?.id ?? null,
  };
  const pid = active.pid ?? (r.kind === 'logger' ? r.pid : null);
  const next = (op: Operation, rest: Partial<ActiveOperation> = {}): ActiveOperation => ({ ...active, op, lastActivityMs: r.time, pid, ...rest });
  const src = source(r);
  const success = r.kind === 'logger' ? rules.successMessages.find((m) => m.regex.test(message)) : undefined;
  if (success !== undefined) {
    decide(ctx, r, id, `${why}; ${success.name}`);
    const warnings = [active.pendingError, active.failingPolls]
      .filter((p): p is PendingFailure => p !== null)
      .map((p) => firstLineOf(p.message));
    for (const p of active.deferredPolls) {
      decideAt(ctx, p, 'access', id, `answered while an error awaited its verdict; ${id} went on to succeed`);
    }
    const op: Operation = {
      ...common,
      orderPolls: common.orderPolls + active.deferredPolls.length,
      state: 'succeeded',
      finishedAt: iso(r.time),
      durationMs: r.time - active.requestedMs,
      warnings: [...(active.op.warnings ?? []), ...warnings].slice(0, MAX_WARNINGS),
    };
    return emit(state, next(op), 'succeeded', r.time, src, message, ctx);
  }
  const failure = rules.failureMessages.find((m) => m.regex.test(message));
  if (failure !== undefined) {
    decide(ctx, r, id, `${why}; ${failure.name}`);
    return fail(state, { ...active, op: common }, r.time, r.time, src, message, ctx);
  }
  if (r.kind === 'exception' || rules.failureSeverities.has(r.severity)) {
    const rule = r.kind === 'exception' ? 'an exception report' : `failureSeverities (${r.severity})`;
    decide(ctx, r, id, `${why}; ${rule}: fails unless a success follows within ${formatDuration(rules.failureGraceMs)}`);
    const pendingError = active.pendingError ?? { atMs: r.time, message, rule, src };
    const warnings = active.pendingError !== null ? [...(active.op.warnings ?? []), firstLine].slice(0, MAX_WARNINGS) : active.op.warnings;
    return emit(state, next({ ...common, warnings }, { pendingError }), 'error', r.time, src, message, ctx);
  }
  decide(ctx, r, id, phase !== undefined ? `${why}; ${phase.name}` : why);
  const warned = r.severity === 'WARN' ? [...(common.warnings ?? []), firstLine].slice(0, MAX_WARNINGS) : common.warnings;
  const op: Operation = { ...common, state: 'running', warnings: warned };
  return emit(state, next(op), 'progress', r.time, src, message, ctx);
}

// ---------------------------------------------------------------------------
// Ending and events

function fail(
  state: TrackerState,
  active: ActiveOperation,
  atMs: number,
  eventTime: number,
  src: Source,
  failure: string,
  ctx: Ctx,
): TrackerState {
  const op: Operation = {
    ...active.op,
    state: 'failed',
    finishedAt: iso(atMs),
    durationMs: atMs - active.requestedMs,
    failure,
  };
  return emit(state, { ...active, op }, 'failed', eventTime, src, failure, ctx);
}

/** Fails every active operation; `{kind}` in the message names each one's kind. */
function failAll(state: TrackerState, time: number, src: Source, message: string, ctx: Ctx): TrackerState {
  let s = state;
  for (const active of state.operations) s = fail(s, active, time, time, src, message.replace('{kind}', active.op.kind), ctx);
  return s;
}

/** The state with `next` in place of the active operation of the same id, without an event. */
function replaceActive(state: TrackerState, next: ActiveOperation): TrackerState {
  const operations = state.operations.map((a) => (a.op.id === next.op.id ? next : a));
  return change(state, { operations, active: operations[0] ?? null  });
}

/** Appends the event for `next`'s new state and files the operation under active/latest. */
function emit(
  state: TrackerState,
  next: ActiveOperation,
  step: 'requested' | 'progress' | 'stalled' | 'error' | 'succeeded' | 'failed',
  time: number,
  src: Source,
  message: string,
  ctx: Ctx,
  track = true,
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
  if (ctx.events === NO_EVENTS) ctx.events = [];
  ctx.events.push(event);
  let operations = state.operations;
  if (track) {
    const at = operations.findIndex((a) => a.op.id === op.id);
    if (isTerminal(op.state)) {
      if (at !== -1) operations = operations.filter((_, i) => i !== at);
    } else if (at === -1) {
      operations = [...operations, next];
    } else {
      operations = operations.slice();
      operations[at] = next;
    }
  }
  return change(state, {
    nextEventId: state.nextEventId + 1,
    operations,
    active: operations[0] ?? null,
    latestRestore: op.kind === 'restore' ? op : state.latestRestore,
    latestBackup: op.kind === 'backup' ? op : state.latestBackup,
  });
}

// ---------------------------------------------------------------------------
// Helpers

const NO_SOURCE: Source = { file: '', offset: -1, line: '' };
/** Shared by every result without events; never written to (`emit` replaces it first). */
const NO_EVENTS = Object.freeze([]) as unknown as WatchEvent[];

function source(r: Exclude<LogRecord, { kind: 'unknown' }>): Source {
  const text = r.line.text;
  return {
    file: r.line.file,
    offset: r.line.offset,
    source: { path: r.line.file, identity: r.line.identity, offset: r.line.offset },
    line: text.length > MAX_EVENT_LINE_CHARS ? text.slice(0, MAX_EVENT_LINE_CHARS) : text,
  };
}

function decide(ctx: Ctx, r: LogRecord, operation: string | null, rule: string): void {
  ctx.decisions?.push({ file: r.line.file, offset: r.line.offset, record: r.kind, operation, rule });
}

/** A decision on a record the tracker knows by its place only (a Rails `Started` line, a deferred poll). */
function decideAt(ctx: Ctx, at: { file: string; offset: number }, record: LogRecord['kind'], operation: string | null, rule: string): void {
  ctx.decisions?.push({ file: at.file, offset: at.offset, record, operation, rule });
}

/** True when an error or warning held back was logged within the time window of the request `r`. */
function heldTroubleWithin(held: readonly HeldRecord[], r: AccessRecord): boolean {
  const from = r.time - r.durationSeconds * 1000 - 1;
  for (const h of held) if (isTrouble(h) && h.time >= from && h.time < r.time + SECOND) return true;
  return false;
}

/** An error worth attributing with care: a failing severity or an exception report. */
function isTrouble(r: HeldRecord): boolean {
  return r.kind === 'exception' || r.severity === 'ERROR' || r.severity === 'FATAL' || r.severity === 'WARN';
}

function namedBackup(rules: TrackerRules, message: string): { id: string; createdMs: number | null } | null {
  const m = rules.backupId.exec(message);
  if (m === null) return null;
  const created = m[1] !== undefined ? Number(m[1]) : NaN;
  return { id: m[0], createdMs: Number.isFinite(created) ? created : null };
}

function findTagged(state: TrackerState, r: LoggerRecord): RailsRequest | null {
  for (let i = state.requests.length - 1; i >= 0; i--) {
    const q = state.requests[i]!;
    if (q.tag !== null && r.tags.includes(q.tag)) return q;
  }
  return null;
}

function latestOpenRequest(state: TrackerState, pid: number): RailsRequest | null {
  for (let i = state.requests.length - 1; i >= 0; i--) {
    const q = state.requests[i]!;
    if (q.pid === pid && q.completedMs === null) return q;
  }
  return null;
}

function isOperationRequest(rules: TrackerRules, q: RailsRequest): boolean {
  return (
    findRequest(rules.restoreRequests, q.method, q.path) !== null ||
    findRequest(rules.backupRequests, q.method, q.path) !== null ||
    findRequest(rules.progressRequests, q.method, q.path) !== null
  );
}

function findRequestIndex(requests: readonly RailsRequest[], test: (q: RailsRequest) => boolean): number {
  for (let i = requests.length - 1; i >= 0; i--) if (test(requests[i]!)) return i;
  return -1;
}

function linkRequest(state: TrackerState, request: RailsRequest, id: string | null, toldTo: string[]): TrackerState {
  const i = state.requests.indexOf(request);
  if (i === -1) return state;
  const requests = state.requests.slice();
  requests[i] = { ...request, operationId: id ?? request.operationId, toldTo };
  return change(state, { requests  });
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

function withOperationId(state: TrackerState, kind: OperationKind, time: number): TrackerState {
  const { id, lastOperationMs, recentIds } = operationId(state, kind, time);
  return change(state, { lastOperationId: id, lastOperationMs, recentIds, operationCount: state.operationCount + 1 });
}

function firstLineOf(message: string): string {
  const nl = message.indexOf('\n');
  return nl === -1 ? message : message.slice(0, nl);
}
