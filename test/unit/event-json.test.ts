import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import { EventJson } from '../../src/event-json.js';
import type { Operation, WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import { awkwardLog } from '../helpers/awkward-log.js';
import { fixtureLogs } from '../helpers/cli.js';

function eventsOf(bytes: Buffer): WatchEvent[] {
  const p = new Pipeline(pipelineOptions(defaultConfig()), 'production.log');
  return [...p.push(bytes), ...p.finish()];
}

/** Every event's text from one writer, in order, as replay writes them. */
function written(events: WatchEvent[]): string[] {
  const json = new EventJson();
  return events.map((e) => json.stringify(e));
}

const operation: Operation = {
  kind: 'backup',
  id: 'backup-20181120T121230Z',
  state: 'running',
  requestedAt: '2018-11-20T12:12:30.000Z',
  requestSeen: true,
  requestedBy: '2001:db8::51',
  requestedByUser: null,
  requestStatus: 201,
  finishedAt: null,
  lastActivityAt: '2018-11-20T12:12:31.000Z',
  durationMs: null,
  orderPolls: 3,
  failedPolls: {},
  messages: 1,
  lastMessage: 'naïve "quoted" \\ tab\there \u0001 \ud800 emoji 🙂',
  failure: null,
  phase: null,
  namedBackupId: null,
  warnings: [],
};

const event: WatchEvent = {
  id: 7,
  type: 'backup.progress',
  time: '2018-11-20T12:12:31.000Z',
  // Both ids in the tracker's order, so that a spread below that sets one keeps the order.
  restoreId: undefined,
  backupId: operation.id,
  state: 'running',
  file: 'production.log',
  offset: 1234,
  source: { path: 'production.log.1.gz', identity: { dev: 2049, ino: 131 }, offset: 99 },
  line: 'I, [2018-11-20T12:12:31.000000 #31554]  INFO -- : naïve "quoted"\u2028',
  message: 'POST /v1/order answered 200',
  operation,
};

describe('EventJson writes what JSON.stringify writes', () => {
  const fixtures = new URL('../../fixtures/', import.meta.url);
  const files = fixtureLogs();

  it('for every event of the fixtures and the corpus, in the order replay meets them', () => {
    let events = 0;
    for (const name of files) {
      const told = eventsOf(readFileSync(new URL(name, fixtures)));
      expect(written(told), name).toEqual(told.map((e) => JSON.stringify(e)));
      events += told.length;
    }
    expect(events).toBeGreaterThan(300);
  });

  it('for seeded awkward logs (invalid UTF-8, IPv6 and forwarded-for hosts, every outcome)', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const told = eventsOf(awkwardLog({ seed, lines: 1500 }));
      expect(told.length).toBeGreaterThan(0);
      expect(written(told)).toEqual(told.map((e) => JSON.stringify(e)));
    }
  });

  it('for fields that need escaping, missing optional fields, failed polls, warnings and odd numbers', () => {
    const bare: Operation = { ...operation };
    for (const k of ['requestSeen', 'requestedByUser', 'failedPolls', 'phase', 'namedBackupId', 'warnings'] as const) delete bare[k];
    const variants: WatchEvent[] = [
      event,
      { ...event, operation: { ...operation, failedPolls: { '500': 2, '404': 1 }, warnings: ['first "error"', 'second'] } },
      { ...event, source: { path: 'production.log', identity: null, offset: 0 } },
      { ...event, source: undefined, operation: bare },
      { ...event, operation: { ...operation, durationMs: Number.NaN, requestedByUser: 'admin', requestSeen: false } },
      { ...event, id: 8, offset: -0, operation: { ...operation, state: 'succeeded', finishedAt: '2018-11-20T12:13:00.000Z', durationMs: 30_000, phase: 'restore' } },
      { ...event, restoreId: 'restore-1', backupId: undefined, operation: { ...operation, kind: 'restore', id: 'restore-1', namedBackupId: 'a9s-pg-1542859215559' } },
    ];
    // Each field changed alone, so that a field the writer keeps from the last event is seen to change.
    const changed: Partial<Operation> = {
      kind: 'restore',
      id: 'backup-2',
      state: 'stalled',
      requestedAt: '2018-11-20T12:12:29.000Z',
      requestSeen: false,
      requestedBy: '::1',
      requestedByUser: 'admin',
      requestStatus: 202,
      finishedAt: '2018-11-20T12:14:00.000Z',
      lastActivityAt: '2018-11-20T12:13:00.000Z',
      durationMs: 1.5,
      orderPolls: 4,
      failedPolls: { '503': 1 },
      messages: 2,
      lastMessage: 'next',
      failure: 'broken',
      phase: 'download',
      namedBackupId: 'a9s-pg-1',
      warnings: ['w'],
    };
    for (const [k, v] of Object.entries(changed)) variants.push(event, { ...event, operation: { ...operation, [k]: v } });
    for (const [k, v] of Object.entries({ type: 'backup.failed', time: 'later', state: 'failed', file: 'other.log', message: 'm' })) {
      variants.push(event, { ...event, [k]: v });
    }
    // Twice through one writer: what it keeps from the last event must never leak into the next.
    expect(written([...variants, ...variants])).toEqual([...variants, ...variants].map((e) => JSON.stringify(e)));
  });
});
