import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import { RestoreFollowUp, reportLines } from '../../src/watch/follow-up.js';
import { palette } from '../../src/watch/render.js';
import { systemClock } from '../../src/watch/stream-client.js';
import type { HttpHandlers, Transport } from '../../src/watch/transport.js';
import { initialWatchState, reduceWatch, type WatchInput, type WatchState } from '../../src/watch/watch-state.js';
import { access, logger } from '../helpers/lines.js';

const T0 = Date.parse('2018-11-20T14:00:00Z');

/** Answers every GET with the body the test set for its path, and records the paths. */
function fakeAgent(bodies: Record<string, unknown>) {
  const paths: string[] = [];
  const transport: Transport = (url, headers, handlers: HttpHandlers) => {
    paths.push(`${url.pathname} ${headers.Authorization ?? ''}`.trim());
    queueMicrotask(() => {
      const body = bodies[url.pathname];
      handlers.response({ status: body === undefined ? 404 : 200, headers: {} });
      handlers.data(JSON.stringify(body ?? { statusCode: 404 }));
      handlers.end();
    });
    return { close: () => undefined };
  };
  return { transport, paths };
}

function eventsOf(lines: string[]): WatchEvent[] {
  const p = new Pipeline(pipelineOptions(defaultConfig()), 'production.log');
  return [...p.push(Buffer.from(`${lines.join('\n')}\n`)), ...p.end()];
}

/** Feeds inputs to a watch reducer and to the follow-up, as `watch` does. */
function drive(followUp: RestoreFollowUp, inputs: WatchInput[], now = T0): WatchState {
  let s = initialWatchState({ untilDone: false, sinceMs: null, timeoutMs: null }, T0);
  for (const input of inputs) {
    s = reduceWatch(s, input, now).state;
    followUp.observe(s, input, now);
  }
  return s;
}

const address = { url: new URL('http://127.0.0.1:9465/'), user: 'admin', password: 'pw' };
const connected: WatchInput[] = [
  { kind: 'baseline', lastEventId: 0 },
  { kind: 'connected', after: null },
];

describe('RestoreFollowUp', () => {
  it('asks /status while a restore runs and shows its phases and time left under it', async () => {
    const events = eventsOf([access('14:00:00', '/v1/restore'), logger('14:00:05', 'downloading backup a9s-pg-1542859215559')]);
    const estimate = { remainingMs: 240_000, overdue: false, basis: 'whole', phase: null, from: 3, medianMs: 300_000, text: '~4 min left, from 3 earlier restores' };
    const agent = fakeAgent({
      '/status': {
        latestRestore: {
          restoreId: events[0]!.operation.id,
          phases: [{ phase: 'download', startedAt: '2018-11-20T14:00:05.000Z', ms: 55_000, current: true }],
          estimate,
          forgotten: null,
        },
      },
    });
    const printed: string[][] = [];
    const f = new RestoreFollowUp(address, agent.transport, systemClock, (l) => printed.push(l), 5000);
    const state = drive(f, [...connected, ...events.map((event): WatchInput => ({ kind: 'event', event, raw: '' }))]);
    await f.settled();
    expect(agent.paths).toEqual([`/status Basic ${Buffer.from('admin:pw').toString('base64')}`]);
    expect(f.viewLines(state, palette(false))).toEqual(['  phases download 55s', '  ~4 min left, from 3 earlier restores']);
    // Not again before the poll interval has passed.
    drive(f, [{ kind: 'tick' }]);
    expect(agent.paths).toHaveLength(1);
    expect(printed).toEqual([]);
  });

  it('shows nothing without an estimate from the agent, and nothing for a restore it does not describe', async () => {
    const events = eventsOf([access('14:00:00', '/v1/restore')]);
    const agent = fakeAgent({ '/status': { latestRestore: { restoreId: 'restore-other', phases: [], estimate: null, forgotten: null } } });
    const f = new RestoreFollowUp(address, agent.transport, systemClock, () => undefined);
    const state = drive(f, [...connected, ...events.map((event): WatchInput => ({ kind: 'event', event, raw: '' }))]);
    await f.settled();
    expect(f.viewLines(state, palette(false))).toEqual([]);
  });

  it('when a watched restore ends, prints the backups the Backup Manager no longer knows', async () => {
    const events = eventsOf([access('14:00:00', '/v1/restore'), logger('14:02:00', 'success')]);
    const id = events[0]!.operation.id;
    const agent = fakeAgent({
      [`/restores/${id}`]: {
        forgottenBackups: [{ operationId: 'backup-20181120T100000Z', backupId: 'a9s-pg-1542708000000', requestedAt: '2018-11-20T10:00:00.000Z', finishedAt: '2018-11-20T10:01:00.000Z', state: 'succeeded' }],
        forgotten: { restoreId: id, basis: 'named', restoredBackupId: 'a9s-pg-1542600000000', restoredPointAt: '2018-11-19T04:00:00.000Z', decision: `${id} restored a9s-pg-1542600000000 …` },
      },
    });
    const printed: string[][] = [];
    const f = new RestoreFollowUp(address, agent.transport, systemClock, (l) => printed.push(l));
    drive(f, [...connected, ...events.map((event): WatchInput => ({ kind: 'event', event, raw: '' }))]);
    await f.settled();
    expect(agent.paths.filter((p) => p.startsWith('/restores/'))).toHaveLength(1);
    expect(printed).toEqual([
      [
        `${id} restored a9s-pg-1542600000000 …`,
        'forgotten by the Backup Manager:',
        '  a9s-pg-1542708000000     succeeded  requested 2018-11-20 10:00:00Z, finished 2018-11-20 10:01:00Z',
      ],
    ]);
  });

  it('says nothing when the restore named no backup and no backup came before it', () => {
    expect(reportLines({ forgottenBackups: [], forgotten: { basis: 'unidentified', decision: 'x' } })).toEqual([]);
    expect(reportLines({ statusCode: 404 })).toEqual([]);
    expect(reportLines(null)).toEqual([]);
  });
});
