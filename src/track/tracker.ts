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
 * The modules, each importing only those below it. Handlers only call down this
 * list: a request line claims held records, whose errors end operations; a banner
 * fails them; releasing what is held lets a verdict that fell due come first. No
 * lower module calls up, so none needs a function passed in.
 *
 * - `tracker.ts` (this one): the entry points `trackRecord`, `trackTick`,
 *   `trackEnd` and `trackFileEnd`, and every name the rest of the agent imports.
 * - `logger-records.ts`: logger lines, the Rails request log and server banners.
 * - `requests.ts`: request lines (access lines, Rails `Completed`): starts, refusals, polls.
 * - `held.ts`: holding, releasing and telling the records a request line may claim.
 * - `operations.ts`: emitting events, failing, applying a record to its operation,
 *   stalls and verdicts, decisions.
 * - `state.ts`: the state's types, bounds and pure helpers (change, ids, upgrade).
 * - `rules.ts`: the compiled rules every module reads.
 */
import type { LogRecord } from '../model.js';
import type { TrackerRules } from './rules.js';
import { hold, releaseHeld } from './held.js';
import { onBanner, onLogger, restartNow } from './logger-records.js';
import { decide, NO_EVENTS, settle, stallIfSilent, type Ctx } from './operations.js';
import { onAccess, tellRefusal } from './requests.js';
import { change, HOLD_MS, IDLE_HOLD_MS, withClock, type TrackerState, type TrackOptions, type TrackResult } from './state.js';

export {
  HOLD_MS,
  IDLE_HOLD_MS,
  initialTrackerState,
  MAX_EVENT_LINE_CHARS,
  MAX_HELD,
  MAX_HELD_CHARS,
  operationId,
  upgradeTrackerState,
  type ActiveOperation,
  type Decision,
  type HeldRecord,
  type PendingFailure,
  type RailsRequest,
  type RequestLine,
  type Source,
  type TrackerState,
  type TrackOptions,
  type TrackResult,
} from './state.js';

/** Feeds one record to the tracker. */
export function trackRecord(state: TrackerState, record: LogRecord, rules: TrackerRules, options: TrackOptions = {}): TrackResult {
  // Most records make no event: the array is made by the first one that does.
  const ctx: Ctx = { rules, events: NO_EVENTS, decisions: options.decisions ?? null, toldTo: null };
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
    s = stallIfSilent(s, time, record, ctx);
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
  const ctx: Ctx = { rules, events: [], decisions: options.decisions ?? null, toldTo: null };
  let s = state.refusal !== null && now - state.refusal.time >= HOLD_MS ? tellRefusal(state, ctx) : state;
  s = releaseHeld(s, now - (s.operations.length > 0 ? HOLD_MS : IDLE_HOLD_MS), ctx);
  s = stallIfSilent(s, now, null, ctx);
  s = settle(s, now, ctx);
  return { state: s, events: ctx.events };
}

/**
 * The input is complete (`replay` at the end of the file): what is held is told,
 * and a pending verdict is settled now, as its grace would have run out with
 * nothing more to come. Operations with nothing pending stay as they are.
 */
export function trackEnd(state: TrackerState, rules: TrackerRules, options: TrackOptions = {}): TrackResult {
  const ctx: Ctx = { rules, events: [], decisions: options.decisions ?? null, toldTo: null };
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
  const ctx: Ctx = { rules, events: [], decisions: options.decisions ?? null, toldTo: null };
  const s = releaseHeld(state.refusal !== null ? tellRefusal(state, ctx) : state, Infinity, ctx);
  return { state: s, events: ctx.events };
}
