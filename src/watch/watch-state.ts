/**
 * What `watch` knows and decides, as a reducer: `(state, input, now) → (state,
 * output)`. Inputs are what the connection saw (an event, a dropped connection, a
 * rejected password, a tick of the clock); outputs are the events to show, once
 * each and in order, and notices about the connection. Nothing here reads a clock
 * or does I/O, so every decision is tested by handing it literals.
 *
 * With `untilDone` it decides which restore it waits for and how `watch` ends:
 *
 * - Events whose id is at most `baseline` (the agent's last event id when `watch`
 *   started) happened before `watch` started; later ones are live.
 * - The first restore that ends live decides: `succeeded` exits 0, `failed` 1. That is
 *   the restore in progress when `watch` started, or, if none was, the next one.
 * - A restore that had already ended before `watch` started does not decide: it is
 *   reported (`already-ended`) and `watch` waits for the next one, because a script
 *   that has just asked for a restore must not take yesterday's outcome for it. With
 *   `sinceMs`, an ended restore requested at or after that time does decide (the
 *   script's restore was quicker than the script).
 * - A restore still in progress whose end was never seen (a newer restore's events
 *   arrive first: the agent dropped events while we were away) counts as failed.
 * - No connection for `timeoutMs` (from the start or since the connection was lost)
 *   exits 2; a rejected password 3; an address that answers, but not as an agent, 2.
 */
import { isTerminal, type Operation, type OperationKind, type WatchEvent } from '../model.js';

export interface WatchOptions {
  untilDone: boolean;
  /** With untilDone: an ended restore requested at or after this (epoch ms) still decides. */
  sinceMs: number | null;
  /** No connection for this long ends the watch (exit 2); null keeps trying. */
  timeoutMs: number | null;
}

export type WatchInput =
  /** A connection attempt starts. */
  | { kind: 'connecting'; attempt: number }
  /** The agent's last event id before the stream opened: the line between history and live. */
  | { kind: 'baseline'; lastEventId: number }
  /** The stream is open; `after` is the event id it resumes after, null for "the latest restore". */
  | { kind: 'connected'; after: number | null }
  /** An event frame; `raw` is its data exactly as the agent sent it. */
  | { kind: 'event'; event: WatchEvent; raw: string }
  | { kind: 'missed'; missed: number; firstAvailableId: number }
  /** The agent's event ids started again (its state was lost); its newest id now. */
  | { kind: 'reset'; lastEventId: number }
  /** An attempt failed or an open stream ended; the next attempt is in `retryInMs`. */
  | { kind: 'lost'; reason: string; retryInMs: number }
  /** The agent answered 401. */
  | { kind: 'rejected'; user: string; withPassword: boolean }
  /** The address answered in a way retrying will not change (not an agent). */
  | { kind: 'refused'; reason: string }
  | { kind: 'tick' };

export type Outcome =
  | { kind: 'restore'; restore: Operation }
  | { kind: 'unseen'; restore: Operation }
  | { kind: 'unreachable'; reason: string; forMs: number }
  | { kind: 'rejected'; user: string; withPassword: boolean }
  | { kind: 'refused'; reason: string };

/** The exit status of each way a watch can end. */
export function exitCode(outcome: Outcome): 0 | 1 | 2 | 3 {
  switch (outcome.kind) {
    case 'restore':
      return outcome.restore.state === 'succeeded' ? 0 : 1;
    case 'unseen':
      return 1;
    case 'unreachable':
    case 'refused':
      return 2;
    case 'rejected':
      return 3;
  }
}

export type Connection =
  | { status: 'connecting'; attempt: number }
  | { status: 'connected'; since: number }
  | { status: 'down'; reason: string; retryAt: number };

export type Notice =
  /** A restore that had ended before `watch` started; with untilDone, `watch` waits for the next. */
  | { kind: 'already-ended'; restore: Operation }
  | { kind: 'missed'; missed: number; firstAvailableId: number }
  | { kind: 'reset'; lastEventId: number }
  | { kind: 'lost'; reason: string; retryInMs: number }
  | { kind: 'reconnected'; after: number | null; downForMs: number }
  | { kind: 'done'; outcome: Outcome };

export type WatchOutput =
  /** An event to show; `poll` marks an order poll that changed nothing but the count. */
  | { kind: 'event'; event: WatchEvent; raw: string; poll: boolean }
  | { kind: 'notice'; notice: Notice };

export interface WatchState {
  options: WatchOptions;
  startedAt: number;
  baseline: number | null;
  /** Highest event id shown; 0 before any. */
  lastId: number;
  /** The latest restore and backup as their last event left them. */
  latest: Record<OperationKind, Operation | null>;
  /** The restore that had ended before `watch` started, while the next one is awaited. */
  endedBefore: Operation | null;
  connection: Connection;
  /** When the current stretch without a connection began; null while connected. */
  downSince: number | null;
  everConnected: boolean;
  /** Why the last attempt failed, until one succeeds. */
  lastFailure: string | null;
  missed: number;
  outcome: Outcome | null;
}

export function initialWatchState(options: WatchOptions, now: number): WatchState {
  return {
    options,
    startedAt: now,
    baseline: null,
    lastId: 0,
    latest: { restore: null, backup: null },
    endedBefore: null,
    connection: { status: 'connecting', attempt: 1 },
    downSince: now,
    everConnected: false,
    lastFailure: null,
    missed: 0,
    outcome: null,
  };
}

export function reduceWatch(state: WatchState, input: WatchInput, now: number): { state: WatchState; output: WatchOutput[] } {
  if (state.outcome !== null) return { state, output: [] };
  const output: WatchOutput[] = [];
  let next = apply(state, input, now, output);
  const { timeoutMs } = next.options;
  if (next.outcome === null && timeoutMs !== null && next.downSince !== null && now - next.downSince >= timeoutMs) {
    const reason = next.lastFailure ?? 'no answer';
    next = { ...next, outcome: { kind: 'unreachable', reason, forMs: now - next.downSince } };
  }
  if (next.outcome !== null) output.push({ kind: 'notice', notice: { kind: 'done', outcome: next.outcome } });
  return { state: next, output };
}

function apply(state: WatchState, input: WatchInput, now: number, output: WatchOutput[]): WatchState {
  switch (input.kind) {
    case 'tick':
      return state;
    case 'connecting':
      return state.connection.status === 'down' ? { ...state, connection: { status: 'connecting', attempt: input.attempt } } : state;
    case 'baseline':
      return state.baseline === null ? { ...state, baseline: input.lastEventId } : state;
    case 'connected': {
      if (state.everConnected && state.downSince !== null) {
        output.push({ kind: 'notice', notice: { kind: 'reconnected', after: input.after, downForMs: now - state.downSince } });
      }
      return { ...state, connection: { status: 'connected', since: now }, downSince: null, everConnected: true, lastFailure: null };
    }
    case 'lost': {
      const previous = state.connection;
      // One notice per outage (or when its reason changes), not one per attempt.
      if (previous.status === 'connected' || state.lastFailure !== input.reason) {
        output.push({ kind: 'notice', notice: { kind: 'lost', reason: input.reason, retryInMs: input.retryInMs } });
      }
      return {
        ...state,
        connection: { status: 'down', reason: input.reason, retryAt: now + input.retryInMs },
        downSince: state.downSince ?? now,
        lastFailure: input.reason,
      };
    }
    case 'missed':
      output.push({ kind: 'notice', notice: { kind: 'missed', missed: input.missed, firstAvailableId: input.firstAvailableId } });
      return { ...state, missed: state.missed + input.missed };
    case 'reset':
      output.push({ kind: 'notice', notice: { kind: 'reset', lastEventId: input.lastEventId } });
      // The ids shown so far belong to the agent's previous life: what follows is shown afresh.
      return { ...state, lastId: 0, baseline: input.lastEventId };
    case 'rejected':
      return { ...state, outcome: { kind: 'rejected', user: input.user, withPassword: input.withPassword } };
    case 'refused':
      return { ...state, outcome: { kind: 'refused', reason: input.reason } };
    case 'event':
      return onEvent(state, input.event, input.raw, output);
  }
}

function onEvent(state: WatchState, e: WatchEvent, raw: string, output: WatchOutput[]): WatchState {
  // Already shown: a resumed stream or a restarted agent sending it again.
  if (e.id <= state.lastId) return state;
  const op = e.operation;
  const previous = state.latest[op.kind];
  const poll =
    e.type.endsWith('.progress') &&
    previous !== null &&
    previous.id === op.id &&
    op.orderPolls > previous.orderPolls &&
    previous.state === op.state;
  output.push({ kind: 'event', event: e, raw, poll });
  const next: WatchState = { ...state, lastId: e.id, latest: { ...state.latest, [op.kind]: op } };
  if (op.kind !== 'restore' || !state.options.untilDone) return next;

  if (previous !== null && previous.id !== op.id && !isTerminal(previous.state)) {
    return { ...next, outcome: { kind: 'unseen', restore: previous } };
  }
  if (!isTerminal(op.state)) return next;
  const live = state.baseline === null || e.id > state.baseline;
  const since = state.options.sinceMs;
  if (live || (since !== null && Date.parse(op.requestedAt) >= since)) {
    return { ...next, outcome: { kind: 'restore', restore: op }, endedBefore: null };
  }
  output.push({ kind: 'notice', notice: { kind: 'already-ended', restore: op } });
  return { ...next, endedBefore: op };
}
