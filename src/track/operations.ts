/**
 * What records and time do to operations: the event an operation's new state
 * makes (`emit`), failing one, applying a logger record or exception to the
 * operation it belongs to, stalls and verdicts that fall due, and the decisions
 * `replay --explain` shows. The lowest layer that tells anything: it calls
 * nothing above it.
 */
import { EVENT_TYPES, isTerminal, type EventType, type LogRecord, type Operation, type OperationKind, type WatchEvent } from '../model.js';
import { formatDuration, iso } from '../format.js';
import type { TrackerRules } from './rules.js';
import { change, MAX_EVENT_LINE_CHARS, withEmitted, type ActiveOperation, type Decision, type HeldRecord, type PendingFailure, type Source, type TrackerState } from './state.js';

const MAX_WARNINGS = 5;

/** What one call of the tracker carries besides the state: the rules, the events made so far, where decisions go. */
export interface Ctx {
  rules: TrackerRules;
  events: WatchEvent[];
  decisions: Decision[] | null;
  /**
   * The operations the request line being told was told to; null outside one. Always
   * present, so that every Ctx has one shape: one added later took a property store of its own.
   */
  toldTo: string[] | null;
}

/** The source of events made by silence (a stall on a tick): no line made them. */
const NO_SOURCE: Source = { file: '', offset: -1, line: '' };
/** The operations a request line was told to, before it was told to any; never written to (`told` replaces it). */
export const NO_IDS = Object.freeze([]) as unknown as string[];
/** Shared by every result without events; never written to (`emit` replaces it first). */
export const NO_EVENTS = Object.freeze([]) as unknown as WatchEvent[];

/** What an event says of the record that made it: where it was read, and its line cut to MAX_EVENT_LINE_CHARS. */
export function source(r: Exclude<LogRecord, { kind: 'unknown' }>): Source {
  const text = r.line.text;
  return {
    file: r.line.file,
    offset: r.line.offset,
    source: { path: r.line.file, identity: r.line.identity, offset: r.line.offset },
    line: text.length > MAX_EVENT_LINE_CHARS ? text.slice(0, MAX_EVENT_LINE_CHARS) : text,
  };
}

/** Notes how a record was told, for `replay --explain`; nothing when decisions are not kept. */
export function decide(ctx: Ctx, r: LogRecord, operation: string | null, rule: string): void {
  ctx.decisions?.push({ file: r.line.file, offset: r.line.offset, record: r.kind, operation, rule });
}

/** A decision on a record the tracker knows by its place only (a Rails `Started` line, a deferred poll). */
export function decideAt(ctx: Ctx, at: { file: string; offset: number }, record: LogRecord['kind'], operation: string | null, rule: string): void {
  ctx.decisions?.push({ file: at.file, offset: at.offset, record, operation, rule });
}

/** An error worth attributing with care: a failing severity or an exception report. */
export function isTrouble(r: HeldRecord): boolean {
  return r.kind === 'exception' || r.severity === 'ERROR' || r.severity === 'FATAL' || r.severity === 'WARN';
}

/** The backup id a message names (rules.backupId), with the creation time a9s ids carry, or null. */
export function namedBackup(rules: TrackerRules, message: string): { id: string; createdMs: number | null } | null {
  const m = rules.backupId.exec(message);
  if (m === null) return null;
  const created = m[1] !== undefined ? Number(m[1]) : NaN;
  return { id: m[0], createdMs: Number.isFinite(created) ? created : null };
}

function firstLineOf(message: string): string {
  const nl = message.indexOf('\n');
  return nl === -1 ? message : message.slice(0, nl);
}

/** A requested operation with nothing told of it yet. */
export function newOperation(kind: OperationKind, id: string, at: number, host: string, user: string | null, status: number): Operation {
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

/** What a record does to the operation it belongs to. */
export function applyTo(state: TrackerState, id: string, r: HeldRecord, why: string, ctx: Ctx): TrackerState {
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

/**
 * Marks `stalled` the operations silent for `stallAfterMs` by `now`; the events name
 * the line of `record`, or none (null: a tick). The source is made only for a stall:
 * this runs for every record while an operation is active.
 */
export function stallIfSilent(state: TrackerState, now: number, record: Exclude<LogRecord, { kind: 'unknown' }> | null, ctx: Ctx): TrackerState {
  let s = state;
  let src: Source | null = null;
  for (const active of state.operations) {
    if (active.op.state === 'stalled') continue;
    const stallAt = active.lastActivityMs + ctx.rules.stallAfterMs;
    if (now < stallAt) continue;
    src ??= record === null ? NO_SOURCE : source(record);
    const op: Operation = { ...active.op, state: 'stalled' };
    const message = `no activity for ${formatDuration(ctx.rules.stallAfterMs)} since ${iso(active.lastActivityMs).slice(0, 19)}Z`;
    s = emit(s, { ...active, op }, 'stalled', stallAt, src, message, ctx);
  }
  return s;
}

/** Fails the operations whose pending error or failing polls have outlived the grace by `now`. */
export function settle(state: TrackerState, now: number, ctx: Ctx): TrackerState {
  let s = state;
  const grace = ctx.rules.failureGraceMs;
  for (const active of state.operations) {
    // Nearly every record finds nothing pending: no arrays are made for it.
    if (active.pendingError === null && active.failingPolls === null) continue;
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

/** Ends an operation `failed`: `atMs` is its `finishedAt`, `eventTime` the event's time. */
export function fail(
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
export function failAll(state: TrackerState, time: number, src: Source, message: string, ctx: Ctx): TrackerState {
  let s = state;
  for (const active of state.operations) s = fail(s, active, time, time, src, message.replace('{kind}', active.op.kind), ctx);
  return s;
}

/** The state with `next` in place of the active operation of the same id, without an event. */
export function replaceActive(state: TrackerState, next: ActiveOperation): TrackerState {
  const operations = state.operations.map((a) => (a.op.id === next.op.id ? next : a));
  return change(state, { operations, active: operations[0] ?? null  });
}

type Step = EventType extends `${OperationKind}.${infer S}` ? S : never;

/**
 * Each event type by kind and step, the strings of EVENT_TYPES themselves: a type joined
 * per event was a new string, compared in full by whoever kept the last.
 */
const EVENT_TYPE = { restore: {}, backup: {} } as Record<OperationKind, Record<Step, EventType>>;
for (const type of EVENT_TYPES) {
  const [kind, step] = type.split('.') as [OperationKind, Step];
  EVENT_TYPE[kind][step] = type;
}

/** Appends the event for `next`'s new state and files the operation under active/latest. */
export function emit(
  state: TrackerState,
  next: ActiveOperation,
  step: Step,
  time: number,
  src: Source,
  message: string,
  ctx: Ctx,
  track = true,
): TrackerState {
  const op = next.op;
  const type = EVENT_TYPE[op.kind][step];
  const at = iso(time);
  // Spelled out, one literal per shape: spreads of the id and source took V8's slow path for every event.
  // The keys keep the order JSON.stringify and event-json.ts write them in.
  let event: WatchEvent;
  if (src.source !== undefined) {
    event =
      op.kind === 'restore'
        ? { id: state.nextEventId, type, time: at, restoreId: op.id, state: op.state, file: src.file, offset: src.offset, source: src.source, line: src.line, message, operation: op }
        : { id: state.nextEventId, type, time: at, backupId: op.id, state: op.state, file: src.file, offset: src.offset, source: src.source, line: src.line, message, operation: op };
  } else {
    event =
      op.kind === 'restore'
        ? { id: state.nextEventId, type, time: at, restoreId: op.id, state: op.state, file: src.file, offset: src.offset, line: src.line, message, operation: op }
        : { id: state.nextEventId, type, time: at, backupId: op.id, state: op.state, file: src.file, offset: src.offset, line: src.line, message, operation: op };
  }
  // Most records make one event: an array of one, not an empty one grown by a push (room for 17).
  if (ctx.events === NO_EVENTS) ctx.events = [event];
  else ctx.events.push(event);
  let operations = state.operations;
  if (track) {
    let index = -1;
    for (let i = 0; i < operations.length && index === -1; i++) if (operations[i]!.op.id === op.id) index = i;
    if (isTerminal(op.state)) {
      if (index !== -1) operations = operations.filter((_, i) => i !== index);
    } else if (index === -1) {
      operations = [...operations, next];
    } else {
      operations = operations.slice();
      operations[index] = next;
    }
  }
  return withEmitted(state, operations, op);
}
