import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/model.js';
import { compileRules } from '../../src/track/rules.js';
import {
  initialTrackerState,
  MAX_HELD,
  MAX_HELD_CHARS,
  trackTick,
  upgradeTrackerState,
  type TrackerState,
} from '../../src/track/tracker.js';
import { access, logger } from '../helpers/lines.js';
import { track } from '../helpers/records.js';

// The tracker's decisions where the log is not simple: one behaviour per test,
// records built from lines as the libraries write them.

const rules = compileRules();

function feed(texts: string[], state = initialTrackerState(), using = rules): { state: TrackerState; events: WatchEvent[] } {
  return track(texts, { state, rules: using, end: false });
}

function run(texts: string[], using = rules, from = initialTrackerState()): { state: TrackerState; events: WatchEvent[] } {
  return track(texts, { state: from, rules: using });
}

const story = (events: WatchEvent[]): string[] => events.map((e) => `${e.type} ${e.restoreId ?? e.backupId}`);
const at = (hms: string): number => Date.parse(`2018-11-20T${hms}Z`);

describe('an error and its verdict', () => {
  it('fails once the grace has passed on the log clock, at the time of the error', () => {
    const { events } = feed([
      access('12:00:00', '/v1/restore'),
      logger('12:00:10', 'boom', 'ERROR'),
      access('12:00:20', '/v1/order'),
      access('12:01:11', '/v1/order'),
    ]);
    expect(events.map((e) => e.type)).toEqual(['restore.requested', 'restore.error', 'restore.failed']);
    expect(events[2]!.operation).toMatchObject({ finishedAt: '2018-11-20T12:00:10.000Z', failure: 'boom', orderPolls: 0 });
  });

  it('fails on a tick when no line comes, and not before the grace', () => {
    const { state } = feed([access('12:00:00', '/v1/restore'), logger('12:00:10', 'boom', 'ERROR')]);
    const early = trackTick(state, at('12:01:10'), rules);
    expect(early.events.map((e) => e.type)).toEqual(['restore.error']);
    const late = trackTick(early.state, at('12:01:10') + 1, rules);
    expect(late.events.map((e) => e.type)).toEqual(['restore.failed']);
  });

  it('takes its grace from the rules', () => {
    const quick = compileRules({ failureGraceSeconds: 5 });
    const { events } = feed([access('12:00:00', '/v1/restore'), logger('12:00:10', 'boom', 'ERROR'), access('12:00:16', '/v1/order')], initialTrackerState(), quick);
    expect(events.at(-1)!.type).toBe('restore.failed');
  });

  it('fails on a failure message without waiting for the grace', () => {
    const strict = compileRules({ failureMessages: ['^restore failed'] });
    const { events } = feed(
      [access('12:00:00', '/v1/restore'), logger('12:00:10', 'restore failed: disk full'), access('12:00:11', '/v1/order')],
      initialTrackerState(),
      strict,
    );
    expect(events.at(-1)).toMatchObject({ type: 'restore.failed', message: 'restore failed: disk full' });
  });
});

describe('records of other requests', () => {
  it("never lets a Rails FATAL for GET /favicon.ico touch the restore (its request id says whose it is)", () => {
    const rails = (time: string, tag: string, message: string, severity = 'INFO'): string => logger(time, `[${tag}] ${message}`, severity);
    const { events } = run([
      rails('12:00:00', 'r1', 'Started POST "/v1/restore" for 172.28.19.56 at 2018-11-20 12:00:00 +0000'),
      rails('12:00:00', 'r1', 'Completed 200 OK in 5ms (Views: 0.0ms | Allocations: 520)'),
      rails('12:00:05', 'r2', 'Started GET "/favicon.ico" for 10.0.0.9 at 2018-11-20 12:00:05 +0000'),
      rails('12:00:05', 'r2', '  \n[r2] ActionController::RoutingError (No route matches [GET] "/favicon.ico"):', 'FATAL'),
      logger('12:00:30', 'success'),
    ]);
    expect(story(events)).toEqual(['restore.requested restore-20181120T120000Z', 'restore.succeeded restore-20181120T120000Z']);
    expect(events[0]!.operation).toMatchObject({ requestedBy: '172.28.19.56', requestedByUser: null });
    expect(events[1]!.operation.warnings).toEqual([]);
  });

  it('gives an error logged within a 404 request window to that request', () => {
    const { events } = run([
      access('12:00:00', '/v1/restore'),
      logger('12:00:05', 'unknown instance a9s-pg', 'ERROR'),
      '10.0.0.9 - admin [20/Nov/2018:12:00:05 +0000] "GET /v1/instances/a9s-pg HTTP/1.1" 404 18 0.0012',
      logger('12:00:30', 'success'),
    ]);
    expect(events.map((e) => e.type)).toEqual(['restore.requested', 'restore.succeeded']);
  });
});

describe('a restarted agent', () => {
  it('fails what the old process ran when a new pid logs', () => {
    const { events } = run([
      access('12:00:00', '/v1/restore'),
      logger('12:00:05', 'Restoring backup a9s-pg-1542859215559'),
      logger('12:01:00', 'backup-agent 1.4.2 starting').replace('#31554', '#32210'),
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'restore.failed', time: '2018-11-20T12:01:00.000Z' });
    expect(events.at(-1)!.operation.failure).toBe('backup-agent restarted during the restore: pid 31554 gave way to pid 32210');
  });

  it('takes a restore whose every line comes from a process started before it for that process', () => {
    const { events } = run([
      logger('11:00:00', 'idle'),
      access('12:00:00', '/v1/restore'),
      logger('12:00:05', 'Restoring backup').replace('#31554', '#32210'),
      logger('12:00:30', 'success').replace('#31554', '#32210'),
    ]);
    expect(events.at(-1)!.type).toBe('restore.succeeded');
  });

  it('can be told not to read a new pid as a restart (several worker processes)', () => {
    const workers = compileRules({ restartOnNewPid: false });
    const { events } = run(
      [access('12:00:00', '/v1/restore'), logger('12:00:05', 'step'), logger('12:00:06', 'step').replace('#31554', '#32210'), logger('12:00:30', 'success')],
      workers,
    );
    expect(events.at(-1)!.type).toBe('restore.succeeded');
  });
});

describe('operations that overlap', () => {
  it('keeps a backup and a restore apart by the backup ids their records name', () => {
    const { events } = run([
      access('04:00:15', '/v1/backup'),
      logger('04:00:20', 'Creating backup a9s-pg-1542686415000'), // created 2018-11-20T04:00:15Z
      access('04:00:40', '/v1/restore'),
      logger('04:00:43', 'downloading backup a9s-pg-1542600000000'),
      logger('04:01:05', 'backup a9s-pg-1542686415000 uploaded'),
      logger('04:01:28', 'success'),
    ]);
    const of = (id: string): string[] => events.filter((e) => (e.restoreId ?? e.backupId) === id).map((e) => e.message);
    expect(of('restore-20181120T040040Z')).toEqual([expect.stringContaining('restore requested'), 'downloading backup a9s-pg-1542600000000']);
    expect(of('backup-20181120T040015Z').slice(1)).toEqual(['Creating backup a9s-pg-1542686415000', 'backup a9s-pg-1542686415000 uploaded', 'success']);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'backup.succeeded' });
    expect(last.operation.namedBackupId).toBe('a9s-pg-1542686415000');
  });
});

describe('the clock', () => {
  it('never stalls while lines keep coming after it steps back an hour, and never repeats an id', () => {
    const { events } = run([
      access('12:00:00', '/v1/restore'),
      access('12:00:10', '/v1/order'),
      logger('11:00:20', 'Restoring base backup'),
      access('11:00:30', '/v1/order'),
      logger('11:05:00', 'success'),
      access('11:59:00', '/v1/restore', 500),
      access('12:00:00', '/v1/restore', 500),
    ]);
    expect(events.some((e) => e.type.endsWith('.stalled'))).toBe(false);
    const ids = [...new Set(events.map((e) => e.operation.id))];
    expect(ids).toEqual(['restore-20181120T120000Z', 'restore-20181120T115900Z', 'restore-20181120T120000Z-3']);
  });
});

describe('the look-back buffer', () => {
  it('is bounded in records and in characters', () => {
    const many = Array.from({ length: MAX_HELD * 3 }, (_, i) => logger(`12:00:${String(i % 60).padStart(2, '0')}`, `line ${i}`));
    expect(feed(many).state.held.length).toBeLessThanOrEqual(MAX_HELD);
    const big = Array.from({ length: 40 }, () => logger('12:00:00', 'x'.repeat(10_000)));
    expect(feed(big).state.heldChars).toBeLessThanOrEqual(MAX_HELD_CHARS);
  });

  it("keeps a handler's line for its request while another request's access line comes first", () => {
    const { events } = run([
      access('11:00:00', '/v1/restore', 500), // an operation has been seen: a held line cannot begin one by itself
      logger('12:00:00', 'Starting restore 41 backup_id=a9s-pg-1542859215559'),
      access('12:00:01', '/v1/order'),
      '172.28.19.56 - admin [20/Nov/2018:12:00:02 +0000] "POST /v1/restore HTTP/1.1" 200 21 2.5000',
    ]);
    const restore = events.filter((e) => e.restoreId === 'restore-20181120T120000Z');
    expect(restore.map((e) => e.message)).toEqual([expect.stringContaining('restore requested'), 'Starting restore 41 backup_id=a9s-pg-1542859215559']);
    expect(restore.at(-1)!.operation).toMatchObject({ requestedAt: '2018-11-20T12:00:00.000Z', namedBackupId: 'a9s-pg-1542859215559' });
  });

  it('gives a refused request the exception its handler reported', () => {
    const { events } = run([
      '2018-11-20 12:00:00 - BackupAgent::RestoreError - backup a9s-pg-1542859215559 is not in the backup store:',
      "\t/var/vcap/packages/backup-agent/lib/backup_agent.rb:99:in `restore'",
      access('12:00:00', '/v1/restore', 500),
    ]);
    expect(events.map((e) => e.type)).toEqual(['restore.requested', 'restore.failed']);
    expect(events[1]!.operation.failure!.split('\n')).toEqual([
      'restore request refused: POST /v1/restore answered 500',
      'BackupAgent::RestoreError: backup a9s-pg-1542859215559 is not in the backup store',
      "/var/vcap/packages/backup-agent/lib/backup_agent.rb:99:in `restore'",
    ]);
  });

  it('stays plain JSON with records held and operations pending', () => {
    const { state } = feed([access('12:00:00', '/v1/restore'), logger('12:00:01', 'boom', 'ERROR'), logger('12:00:02', 'careful', 'WARN')]);
    expect(state.held.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

describe('a checkpoint written before operations could overlap', () => {
  it('carries its active restore on', () => {
    const { state } = feed([access('12:00:00', '/v1/restore'), access('12:00:01', '/v1/order')]);
    const op = state.active!.op;
    // The shape checkpoints had: one active operation, operations without the newer fields.
    const old = {
      nextEventId: state.nextEventId,
      active: { op: { ...op, phase: undefined, warnings: undefined, failedPolls: undefined, namedBackupId: undefined, requestedByUser: undefined, requestSeen: undefined }, requestedMs: at('12:00:00'), lastActivityMs: at('12:00:01') },
      latestRestore: op,
      latestBackup: null,
      lastOperationId: op.id,
      clock: at('12:00:01'),
    } as unknown as TrackerState;
    const upgraded = upgradeTrackerState(JSON.parse(JSON.stringify(old)) as TrackerState);
    expect(upgraded.operations.map((a) => a.op.id)).toEqual([op.id]);
    const end = run([logger('12:00:30', 'success')], rules, upgraded);
    expect(end.events.map((e) => [e.type, e.id])).toEqual([['restore.succeeded', state.nextEventId]]);
    expect(end.events[0]!.operation).toMatchObject({ warnings: [], phase: null, namedBackupId: null, requestSeen: true });
  });
});
