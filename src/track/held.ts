/**
 * The look-back buffer: logger records and exceptions held back until a request
 * line can claim them (Rack writes its access line after what the handler
 * logged), released when the log's clock has passed them, and told to the
 * operation they name when no request took them. Built on operations.ts; the
 * request lines that claim what is held live above, in requests.ts.
 */
import type { AccessRecord, Operation, OperationKind } from '../model.js';
import {
  applyTo,
  decide,
  emit,
  isTrouble,
  namedBackup,
  newOperation,
  settle,
  source,
  type Ctx,
} from './operations.js';
import {
  change,
  IDLE_HOLD_MS,
  MAX_HELD,
  MAX_HELD_CHARS,
  SECOND,
  withHeld,
  withOperationId,
  type ActiveOperation,
  type HeldRecord,
  type TrackerState,
} from './state.js';

/** Keeps a record for the next request line to claim; what falls out of the bounds is told now. */
export function hold(state: TrackerState, r: HeldRecord, ctx: Ctx): TrackerState {
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
export function releaseHeld(state: TrackerState, before: number, ctx: Ctx): TrackerState {
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
export function takeHeld(state: TrackerState, claim: (h: HeldRecord) => boolean): [HeldRecord[], TrackerState] {
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
export function tell(state: TrackerState, r: HeldRecord, ctx: Ctx): TrackerState {
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

/** True when an error or warning held back was logged within the time window of the request `r`. */
export function heldTroubleWithin(held: readonly HeldRecord[], r: AccessRecord): boolean {
  const from = r.time - r.durationSeconds * 1000 - 1;
  for (const h of held) if (isTrouble(h) && h.time >= from && h.time < r.time + SECOND) return true;
  return false;
}
