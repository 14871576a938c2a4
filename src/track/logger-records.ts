/**
 * Logger lines and server banners: a new pid or a banner says the backup-agent
 * restarted and fails what it ran; the Rails request log (`Started`, `Completed`,
 * request-id tags) makes request lines and attributes tagged lines at once;
 * anything else is told to a running operation or held. Built on requests.ts,
 * held.ts and operations.ts.
 */
import type { BannerRecord, LoggerRecord } from '../model.js';
import { requestRules, type TrackerRules } from './rules.js';
import { hold, releaseHeld, tell } from './held.js';
import { applyTo, decide, fail, failAll, isTrouble, source, type Ctx } from './operations.js';
import { onRequestLine } from './requests.js';
import { change, type RailsRequest, type TrackerState } from './state.js';

const MAX_RAILS_REQUESTS = 16;

const RAILS_STARTED = /^Started ([A-Z]+) "([^"?]*)(?:\?[^"]*)?" for (\S+) at /;
const RAILS_COMPLETED = /^Completed (\d{3}) .*? in (\d+(?:\.\d+)?)ms/;

/** A logger line: a new pid, a Rails `Started`/`Completed`, a line tagged with a request id, or progress to tell or hold. */
export function onLogger(state: TrackerState, r: LoggerRecord, ctx: Ctx): TrackerState {
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
    if (!isOperationRequest(ctx.rules, request)) {
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

/** A server's start-up banner: the backup-agent restarted, so the operations it ran fail. */
export function onBanner(state: TrackerState, r: BannerRecord, time: number, ctx: Ctx): TrackerState {
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

/** Fails the operations a time-less banner ended, at `time`: the first time seen after it. */
export function restartNow(state: TrackerState, time: number, ctx: Ctx): TrackerState {
  const restart = state.restart!;
  let s: TrackerState = change(state, { restart: { ...restart, ended: true }  });
  for (const active of state.operations) {
    if (!restart.operations.includes(active.op.id)) continue;
    s = fail(s, active, time, time, restart.src, restart.message.replace('{kind}', active.op.kind), ctx);
  }
  return s;
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

/** True when a start or poll rule takes the request. */
function isOperationRequest(rules: TrackerRules, q: RailsRequest): boolean {
  const { start, poll } = requestRules(rules, q.method, q.path);
  return start !== null || poll !== null;
}

function findRequestIndex(requests: readonly RailsRequest[], test: (q: RailsRequest) => boolean): number {
  for (let i = requests.length - 1; i >= 0; i--) if (test(requests[i]!)) return i;
  return -1;
}
