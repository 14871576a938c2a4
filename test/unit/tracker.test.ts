import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/model.js';
import { compileRules } from '../../src/track/rules.js';
import {
  initialTrackerState,
  operationId,
  trackTick,
  type TrackerState,
} from '../../src/track/tracker.js';
import { access, logger } from '../helpers/lines.js';
import { track } from '../helpers/records.js';

const rules = compileRules();

/** Tracks the lines as `replay` does: to the end of the input, where what is pending is settled. */
function run(texts: string[], state: TrackerState = initialTrackerState(), using = rules): { state: TrackerState; events: WatchEvent[] } {
  return track(texts, { state, rules: using });
}

const summary = (events: WatchEvent[]): string[] => events.map((e) => `${e.type}:${e.state}`);

describe('tracker', () => {
  it('tells a request no rule knows while a restore runs as any request: it clears the request line a server echo repeats', () => {
    const polled = run([access('12:12:30', '/v1/restore'), access('12:12:31', '/v1/order')], undefined, rules);
    expect(polled.state.lastRequest).toEqual({ path: '/v1/order', toldTo: ['restore-20181120T121230Z'] });
    const checked = track([access('12:12:31', '/v1/status')], { state: polled.state, rules, end: false });
    expect(checked.events).toEqual([]);
    expect(checked.state).toEqual({ ...polled.state, lastRequest: null });
    // Nothing to clear: nothing changes, not even the state object.
    expect(track([access('12:12:31', '/v1/status')], { state: checked.state, rules, end: false }).state).toBe(checked.state);
  });

  it('follows a restore from request to success (the seed sample)', () => {
    const { state, events } = run([
      access('12:12:30', '/v1/restore', 200, '172.28.19.56'),
      access('12:12:31', '/v1/order'),
      access('12:12:45', '/v1/order'),
      logger('12:13:00', 'success'),
      access('12:13:02', '/v1/order'),
    ]);
    expect(summary(events)).toEqual([
      'restore.requested:requested',
      'restore.progress:running',
      'restore.progress:running',
      'restore.succeeded:succeeded',
    ]);
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    const done = events[3]!.operation;
    expect(done).toMatchObject({
      id: 'restore-20181120T121230Z',
      requestedBy: '172.28.19.56',
      requestedAt: '2018-11-20T12:12:30.000Z',
      finishedAt: '2018-11-20T12:13:00.000Z',
      durationMs: 30_000,
      orderPolls: 2,
      messages: 1,
    });
    expect(state.active).toBeNull();
    expect(state.latestRestore).toEqual(done);
  });

  it('never takes a backup success for a restore', () => {
    const { events, state } = run([
      access('04:00:15', '/v1/backup'),
      logger('04:01:28', 'success'),
      access('04:01:31', '/v1/order'),
    ]);
    expect(summary(events)).toEqual(['backup.requested:requested', 'backup.succeeded:succeeded']);
    expect(events.every((e) => e.backupId === 'backup-20181120T040015Z' && e.restoreId === undefined)).toBe(true);
    expect(state.latestRestore).toBeNull();
  });

  it('fails on an ERROR entry with the whole message, backtrace included', () => {
    const { events } = run([
      access('13:00:00', '/v1/restore'),
      logger('13:00:20', 'boom (RuntimeError)', 'ERROR'),
      "/lib/restore.rb:42:in `download'",
    ]);
    expect(summary(events)).toEqual(['restore.requested:requested', 'restore.error:requested', 'restore.failed:failed']);
    const last = events.at(-1)!;
    expect(last.message).toBe("boom (RuntimeError)\n/lib/restore.rb:42:in `download'");
    expect(last.operation.failure).toBe(last.message);
    expect(last.operation.finishedAt).toBe('2018-11-20T13:00:20.000Z');
  });

  it('fails on FATAL too, but not on WARN', () => {
    expect(summary(run([access('13:00:00', '/v1/restore'), logger('13:00:01', 'careful', 'WARN')]).events)).toEqual([
      'restore.requested:requested',
      'restore.progress:running',
    ]);
    expect(run([access('13:00:00', '/v1/restore'), logger('13:00:01', 'dead', 'FATAL')]).events.at(-1)!.type).toBe(
      'restore.failed',
    );
  });

  it('fails a refused request at once, naming the status, and leaves the active one alone', () => {
    const { events, state } = run([
      access('14:00:00', '/v1/backup'),
      access('14:00:05', '/v1/restore', 409),
      logger('14:00:10', 'success'),
    ]);
    expect(summary(events)).toEqual([
      'backup.requested:requested',
      'restore.requested:requested',
      'restore.failed:failed',
      'backup.succeeded:succeeded',
    ]);
    expect(events[1]!.time).toBe(events[2]!.time);
    expect(events[2]!.message).toContain('409');
    expect(state.latestRestore!.failure).toContain('409');
  });

  it('ignores lines after an operation ended: no reopening, no new operation', () => {
    const { events } = run([
      access('12:00:00', '/v1/restore'),
      logger('12:00:10', 'success'),
      access('12:00:12', '/v1/order'),
      logger('12:00:13', 'something else'),
      logger('12:00:14', 'oops', 'ERROR'),
    ]);
    expect(summary(events)).toEqual(['restore.requested:requested', 'restore.succeeded:succeeded']);
  });

  it('ignores order polls and messages when nothing is active', () => {
    expect(run([access('12:00:00', '/v1/order'), logger('12:00:01', 'success')]).events).toEqual([]);
  });

  it('turns a silent restore stalled on the log clock and running again on the next line', () => {
    const { events } = run([
      access('16:00:00', '/v1/restore'),
      access('16:00:01', '/v1/order'),
      logger('16:25:04', 'replaying WAL'),
    ]);
    expect(summary(events)).toEqual([
      'restore.requested:requested',
      'restore.progress:running',
      'restore.stalled:stalled',
      'restore.progress:running',
    ]);
    expect(events[2]!.time).toBe('2018-11-20T16:10:01.000Z');
  });

  it('stalls on a tick when no line arrives, once', () => {
    let { state } = run([access('16:00:00', '/v1/restore')]);
    const early = trackTick(state, Date.UTC(2018, 10, 20, 16, 9, 59), rules);
    expect(early.events).toEqual([]);
    const late = trackTick(early.state, Date.UTC(2018, 10, 20, 16, 10, 0), rules);
    expect(summary(late.events)).toEqual(['restore.stalled:stalled']);
    state = late.state;
    expect(trackTick(state, Date.UTC(2018, 10, 20, 17, 0, 0), rules).events).toEqual([]);
  });

  it('supersedes an active restore with a new one: the earlier one fails, naming its successor', () => {
    const { events, state } = run([
      access('17:00:00', '/v1/restore'),
      access('17:02:00', '/v1/restore'),
      logger('17:03:00', 'success'),
    ]);
    expect(summary(events)).toEqual([
      'restore.requested:requested',
      'restore.failed:failed',
      'restore.requested:requested',
      'restore.succeeded:succeeded',
    ]);
    expect(events[1]!.restoreId).toBe('restore-20181120T170000Z');
    expect(events[1]!.message).toContain('restore-20181120T170200Z');
    expect(state.latestRestore!.id).toBe('restore-20181120T170200Z');
  });

  it('gives the same ids on every run over the same lines', () => {
    const lines = [access('12:00:00', '/v1/restore'), logger('12:00:01', 'success')];
    expect(run(lines).events).toEqual(run(lines).events);
  });

  it('continues event ids from a given state', () => {
    const { events } = run([access('12:00:00', '/v1/restore')], initialTrackerState(41));
    expect(events[0]!.id).toBe(41);
  });

  it('numbers operations requested in the same second by their place in the log', () => {
    const t = Date.UTC(2018, 10, 20, 12, 0, 0);
    let state: Parameters<typeof operationId>[0] = { lastOperationMs: null, operationCount: 0, recentIds: [] };
    const ids: string[] = [];
    for (const time of [t, t + 300, t + 900, t + 1000]) {
      const { id, lastOperationMs, recentIds } = operationId(state, 'restore', time);
      ids.push(id);
      state = { lastOperationMs, operationCount: state.operationCount + 1, recentIds };
    }
    expect(ids).toEqual([
      'restore-20181120T120000Z',
      'restore-20181120T120000Z-2',
      'restore-20181120T120000Z-3',
      'restore-20181120T120001Z',
    ]);
  });

  it('takes rules from data: another success message, another progress request', () => {
    const custom = compileRules({
      restoreRequest: { method: 'POST', path: '/v2/restore' },
      backupRequest: { method: 'POST', path: '/v1/backup' },
      progressRequests: [{ method: 'GET', path: '/v2/progress' }],
      successMessages: ['^restore (finished|complete)'],
      failureMessages: ['^aborted'],
      failureSeverities: ['FATAL'],
    });
    const texts = [
      access('12:00:00', '/v2/restore'),
      '172.28.19.51 - admin [20/Nov/2018:12:00:01 +0000] "GET /v2/progress HTTP/1.1" 200 13 0.7541',
      logger('12:00:02', 'transient', 'ERROR'),
      logger('12:00:03', 'Restore finished'),
    ];
    const { events } = run(texts, initialTrackerState(), custom);
    expect(summary(events)).toEqual([
      'restore.requested:requested',
      'restore.progress:running',
      'restore.progress:running',
      'restore.succeeded:succeeded',
    ]);
  });

  it('keeps its state as plain JSON', () => {
    const { state } = run([access('12:00:00', '/v1/restore'), access('12:00:01', '/v1/order')]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});
