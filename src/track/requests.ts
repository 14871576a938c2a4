/**
 * Request lines: an access line, or a Rails `Completed` for its `Started`. A
 * start request claims the held records in its time window (or with its request
 * id) and starts an operation, or is refused; an order poll advances the active
 * operations or, answered with trouble, counts towards failing them; any other
 * request takes its own errors. Built on held.ts and operations.ts.
 */
import type { AccessRecord, LoggerRecord, Operation, OperationKind } from '../model.js';
import { answered, iso } from '../format.js';
import { pollFails, requestRules, type RequestMatcher } from './rules.js';
import { releaseHeld, takeHeld, heldTroubleWithin } from './held.js';
import { applyTo, decide, decideAt, emit, fail, isTrouble, namedBackup, newOperation, NO_IDS, replaceActive, source, type Ctx } from './operations.js';
import {
  change,
  MAX_HELD,
  SECOND,
  withOperationId,
  type ActiveOperation,
  type HeldRecord,
  type PendingFailure,
  type RailsRequest,
  type RequestLine,
  type TrackerState,
} from './state.js';

/** Tells the refusal Rails answered, with the lines tagged with its request id. */
export function tellRefusal(state: TrackerState, ctx: Ctx): TrackerState {
  const q = state.refusal!;
  const [claimed, s0] = takeHeld(change(state, { refusal: null }), (h) => h.kind === 'logger' && h.tags.includes(q.tag!));
  return onStart(releaseHeld(s0, Infinity, ctx), q.kind, q.rule, q, claimed, ctx);
}

/** An access line: a request told once, unless the Rails request log already told it. */
export function onAccess(state: TrackerState, r: AccessRecord, ctx: Ctx): TrackerState {
  // The request's rule is found once here and handed on: an order poll was matched against the lists six times.
  const { restore, start, poll } = requestRules(ctx.rules, r.method, r.path);
  // Most lines of a production.log are order polls and status checks while nothing runs: told without allocating.
  // Told as the general path below would tell them: nothing held could begin an operation or be this request's error.
  if (
    start === null &&
    state.operations.length === 0 &&
    (state.held.length === 0 || (state.operationCount > 0 && !heldTroubleWithin(state.held, r))) &&
    state.requests.length === 0 &&
    state.failedByPolls === null &&
    state.lastRequest === null
  ) {
    if (ctx.decisions !== null) {
      decide(ctx, r, null, poll !== null ? `${poll.name}: no operation active` : `no rule for ${r.method} ${r.path}`);
    }
    return state;
  }
  // A request no rule knows, with nothing held and no Rails request open (the status checks
  // between order polls): told as the general path below would tell it, without allocating.
  if (start === null && poll === null && state.held.length === 0 && state.requests.length === 0) {
    if (ctx.decisions !== null) decide(ctx, r, null, `no rule for ${r.method} ${r.path}`);
    return state.lastRequest === null ? state : change(state, { lastRequest: null });
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
  return tellAndRemember(
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
    restore,
    start,
    poll,
  );
}

/** A request line, from the access log or a Rails `Completed`; remembers what it was told to for the server's echo of it. */
export function onRequestLine(state: TrackerState, q: RequestLine, ctx: Ctx): TrackerState {
  const { restore, start, poll } = requestRules(ctx.rules, q.method, q.path);
  return tellAndRemember(state, q, ctx, restore, start, poll);
}

/**
 * Tells a request line whose rules were found (`start` a restore's or a backup's, `poll` a
 * poll's, or neither), and remembers what it was told to.
 */
function tellAndRemember(
  state: TrackerState,
  q: RequestLine,
  ctx: Ctx,
  restore: RequestMatcher | null,
  start: RequestMatcher | null,
  poll: RequestMatcher | null,
): TrackerState {
  ctx.toldTo = NO_IDS;
  const told =
    start !== null ? tellStart(state, q, ctx, restore !== null ? 'restore' : 'backup', start)
    : poll !== null ? tellPoll(state, q, ctx, poll)
    : tellOther(state, q, ctx);
  return rememberRequest(told, q.path, ctx);
}

/**
 * Notes that the request line being told was told to `id`; nothing outside a request line.
 * Nearly always one id: an array of one, not an empty one grown by a push (room for 17).
 */
function told(ctx: Ctx, id: string): void {
  const ids = ctx.toldTo;
  if (ids !== null) ctx.toldTo = ids.length === 0 ? [id] : [...ids, id];
}

/** The state remembering the request line just told and the operations it was told to (`ctx.toldTo`). */
function rememberRequest(s: TrackerState, path: string, ctx: Ctx): TrackerState {
  const toldTo = ctx.toldTo!;
  const last = s.lastRequest;
  if (toldTo.length === 0 && last === null) return s;
  // Order polls follow one another: the same path told to the same operations is kept as it was.
  if (last !== null && toldTo.length > 0 && last.path === path && sameIds(last.toldTo, toldTo)) return s;
  return change(s, { lastRequest: toldTo.length === 0 ? null : { path, toldTo } });
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A request that starts a restore or backup (or is refused). */
function tellStart(state: TrackerState, q: RequestLine, ctx: Ctx, kind: OperationKind, rule: RequestMatcher): TrackerState {
  if (q.rails !== null && q.tag !== null && (q.status < 200 || q.status >= 300)) {
    // Rails logs the exception after `Completed`: the refusal waits for it.
    return change(state, { refusal: { ...q, kind, rule: rule.name } });
  }
  const [claimed, s0] = takeHeld(state, inWindowOf(q, false));
  const s1 = releaseHeld(s0, Infinity, ctx);
  return onStart(s1, kind, rule.name, q, claimed, ctx);
}

/** An order poll. */
function tellPoll(state: TrackerState, q: RequestLine, ctx: Ctx, rule: RequestMatcher): TrackerState {
  // What came before a poll is told first; while nothing runs it stays held for a request that
  // may start something, unless it could itself begin an operation (see `tell`).
  const s0 = state.operations.length > 0 || state.operationCount === 0 ? releaseHeld(state, Infinity, ctx) : state;
  return onPoll(s0, rule, q, ctx);
}

/** Another request (a status check, a 404): its errors are its own, never an operation's. */
function tellOther(state: TrackerState, q: RequestLine, ctx: Ctx): TrackerState {
  const [claimed, s0] = takeHeld(state, inWindowOf(q, true));
  if (ctx.decisions !== null) {
    for (const h of claimed) decide(ctx, h, null, `belongs to request ${q.method} ${q.path} ${q.status} (logged within its time window)`);
    decide(ctx, q.record, null, `no rule for ${q.method} ${q.path}`);
  }
  return state.held.length > 0 && s0.operations.length > 0 ? releaseHeld(s0, Infinity, ctx) : s0;
}

/**
 * What the handler logged came first: records in the request's window (or with its tag) are
 * its own, or only its errors (`trouble`). Made here, not inline: a closure over `q` in the
 * function that told every request line made each order poll allocate a context for it.
 */
function inWindowOf(q: RequestLine, trouble: boolean): (h: HeldRecord) => boolean {
  return (h) =>
    (q.tag !== null ? h.kind === 'logger' && h.tags.includes(q.tag) : h.time >= q.time - q.durationMs - 1 && h.time < q.time + SECOND) &&
    (!trouble || isTrouble(h));
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
    told(ctx, id);
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
  told(ctx, id);
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
  const message = answered(q.method, q.path, q.status);
  for (const active of state.operations) {
    if (good && active.pendingError !== null) {
      const deferredPolls = [...active.deferredPolls, { file: q.src.file, offset: q.src.offset }].slice(-MAX_HELD);
      s = replaceActive(s, { ...active, deferredPolls });
      continue;
    }
    decide(ctx, q.record, active.op.id, good ? rule.name : `${rule.name}: answered ${q.status}, not progress`);
    told(ctx, active.op.id);
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

function linkRequest(state: TrackerState, request: RailsRequest, id: string | null, toldTo: string[]): TrackerState {
  const i = state.requests.indexOf(request);
  if (i === -1) return state;
  const requests = state.requests.slice();
  requests[i] = { ...request, operationId: id ?? request.operationId, toldTo };
  return change(state, { requests  });
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
