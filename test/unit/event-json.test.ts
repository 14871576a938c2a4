import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import { EventJson, type ByteSink } from '../../src/event-json.js';
import type { Operation, WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import { awkwardLog } from '../helpers/awkward-log.js';
import { fixtureLogs } from '../helpers/cli.js';

function eventsOf(bytes: Buffer): WatchEvent[] {
  const p = new Pipeline(pipelineOptions(defaultConfig()), 'production.log');
  return [...p.push(bytes), ...p.finish()];
}

/** Every event's text from one writer, in order, as replay writes them (each into a buffer of its own). */
function written(events: WatchEvent[]): string[] {
  const json = new EventJson();
  return events.map((e) => {
    const sink: ByteSink = {
      bytes: Buffer.alloc(0),
      used: 0,
      reserve(size) {
        if (size > this.bytes.length - this.used) this.bytes = Buffer.allocUnsafe(size);
      },
    };
    json.write(e, sink);
    // Without the newline each event ends with.
    return sink.bytes.toString('utf8', 0, sink.used - 1);
  });
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

  // Text that each fast path of the writer must leave to JSON.stringify's rules.
  const awkwardStrings = [
    '',
    'a',
    '"',
    '\\',
    '""\\\\"',
    'GET /v1/status?q="a\\b" HTTP/1.1',
    '\u0000\u0001\u0008\u0009\u000a\u000b\u000c\u000d\u001f',
    'tab\there\r\n',
    'del \u007f',
    'naïve café \u00ff\u0100',
    '\u2028\u2029',
    'emoji 🙂 and a pair \ud83d\ude42',
    'lone \ud800 high',
    'lone \udc00 low',
    'ends high \ud83d',
    '"'.repeat(70_000),
    `${'x'.repeat(300_000)}"`,
    `${'\\'.repeat(40_000)}é`,
  ];
  const awkwardNumbers = [0, 9, 10, 99, 100, 101, 12_345, 999_999_999, 1_000_000_000, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -0, 0.5, 1e21, 1e-7, Number.NaN, Number.POSITIVE_INFINITY];

  it('for awkward lines, messages and last messages, each after a plain one', () => {
    const variants: WatchEvent[] = [];
    for (const s of awkwardStrings) {
      variants.push(event, { ...event, line: s }, { ...event, message: s }, { ...event, operation: { ...operation, lastMessage: s } });
    }
    expect(written(variants)).toEqual(variants.map((e) => JSON.stringify(e)));
  });

  it('for awkward numbers in every number field', () => {
    const variants: WatchEvent[] = [];
    for (const n of awkwardNumbers) {
      variants.push(
        { ...event, id: n },
        { ...event, offset: n },
        { ...event, source: { ...event.source!, offset: n } },
        { ...event, operation: { ...operation, orderPolls: n, messages: n, requestStatus: n, durationMs: n } },
      );
    }
    expect(written(variants)).toEqual(variants.map((e) => JSON.stringify(e)));
  });

  it('for runs that switch between two or three sets of values, with messages made anew', () => {
    // A poll and a log message a millisecond apart, then a third: the writer keeps the last two of each part.
    const made = (text: string): string => [...text].join('');
    const poll = (id: number): WatchEvent => ({ ...event, id, message: made('POST /v1/order answered 200'), operation: { ...operation, orderPolls: id } });
    const logged = (id: number, ms: string): WatchEvent => ({
      ...event,
      id,
      time: `2018-11-20T12:12:31.${ms}Z`,
      message: made(`step ${id}`),
      operation: { ...operation, lastActivityAt: `2018-11-20T12:12:31.${ms}Z`, lastMessage: `step ${id}`, messages: id },
    });
    const third: WatchEvent = { ...event, type: 'backup.failed', state: 'failed', message: 'failed', operation: { ...operation, state: 'failed', failure: 'broken' } };
    const run: WatchEvent[] = [];
    for (let id = 1; id <= 12; id++) run.push(poll(id), poll(id), logged(id, id % 3 === 0 ? '002' : '001'), poll(id), id % 4 === 0 ? third : poll(id));
    expect(written(run)).toEqual(run.map((e) => JSON.stringify(e)));
  });
});
