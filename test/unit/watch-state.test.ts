import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import {
  exitCode,
  initialWatchState,
  reduceWatch,
  type WatchInput,
  type WatchOptions,
  type WatchOutput,
  type WatchState,
} from '../../src/watch/watch-state.js';
import { access, logger } from '../helpers/lines.js';

/** Real events, as the agent makes them from these log lines (ids from 1). */
function eventsOf(lines: string[]): WatchEvent[] {
  // The 403 is a failure message, so a restore fails on that line; an ERROR alone awaits a success for a grace.
  const config = defaultConfig();
  config.track.rules.failureMessages = ['403 Forbidden'];
  const p = new Pipeline(pipelineOptions(config), 'production.log');
  return [...p.push(Buffer.from(`${lines.join('\n')}\n`)), ...p.finish()];
}

const T0 = Date.parse('2018-11-20T14:00:00Z');

class Run {
  state: WatchState;
  output: WatchOutput[] = [];
  now = T0;

  constructor(options: Partial<WatchOptions> = {}) {
    this.state = initialWatchState({ untilDone: true, sinceMs: null, timeoutMs: null, ...options }, this.now);
  }

  feed(...inputs: WatchInput[]): this {
    for (const input of inputs) {
      const r = reduceWatch(this.state, input, this.now);
      this.state = r.state;
      this.output.push(...r.output);
    }
    return this;
  }

  /** Connects with `baseline` as the agent's last event id, then delivers `events`. */
  start(baseline: number, events: WatchEvent[] = []): this {
    return this.feed({ kind: 'baseline', lastEventId: baseline }, { kind: 'connected', after: null }).events(events);
  }

  events(events: WatchEvent[]): this {
    return this.feed(...events.map((event): WatchInput => ({ kind: 'event', event, raw: JSON.stringify(event) })));
  }

  shownIds(): number[] {
    return this.output.flatMap((o) => (o.kind === 'event' ? [o.event.id] : []));
  }

  notices(): string[] {
    return this.output.flatMap((o) => (o.kind === 'notice' ? [o.notice.kind] : []));
  }

  code(): number | null {
    return this.state.outcome === null ? null : exitCode(this.state.outcome);
  }
}

// Two restores: the first succeeds (ids 1-3), the second fails (ids 4-6).
const TWO = eventsOf([
  access('12:00:00', '/v1/restore'),
  access('12:00:01', '/v1/order'),
  logger('12:00:05', 'success'),
  access('13:00:00', '/v1/restore'),
  access('13:00:01', '/v1/order'),
  logger('13:00:09', 'could not download backup: 403 Forbidden', 'ERROR'),
]);
const first = TWO.slice(0, 3);
const second = TWO.slice(3);

describe('reduceWatch with --until-done', () => {
  it('waits for the restore in progress and exits 0 when it succeeds', () => {
    const run = new Run().start(2, first.slice(0, 2));
    expect(run.code()).toBeNull();
    run.events(first.slice(2));
    expect(run.code()).toBe(0);
    expect(run.state.outcome).toMatchObject({ kind: 'restore', restore: { id: 'restore-20181120T120000Z', state: 'succeeded' } });
    expect(run.notices()).toEqual(['done']);
  });

  it('exits 1 when the restore in progress fails', () => {
    const run = new Run().start(4, TWO.slice(3, 4)).events(second.slice(1));
    expect(run.code()).toBe(1);
    expect(run.state.outcome).toMatchObject({ restore: { state: 'failed', failure: expect.stringContaining('403') } });
  });

  it('with no restore yet, waits for the next one', () => {
    const run = new Run().start(0);
    expect(run.state.latest.restore).toBeNull();
    run.events(first);
    expect(run.code()).toBe(0);
  });

  it('reports a restore that had ended before it started, and waits for the next one', () => {
    const run = new Run().start(3, first);
    expect(run.code()).toBeNull();
    expect(run.notices()).toEqual(['already-ended']);
    expect(run.state.endedBefore?.id).toBe('restore-20181120T120000Z');
    expect(run.shownIds()).toEqual([1, 2, 3]);
    run.events(second);
    expect(run.code()).toBe(1);
    expect(run.state.outcome).toMatchObject({ restore: { id: 'restore-20181120T130000Z' } });
  });

  it('takes an ended restore requested at or after --since at once', () => {
    const at = new Run({ sinceMs: Date.parse('2018-11-20T12:00:00Z') }).start(3, first);
    expect([at.code(), at.notices()]).toEqual([0, ['done']]);
    const later = new Run({ sinceMs: Date.parse('2018-11-20T12:00:01Z') }).start(3, first);
    expect([later.code(), later.notices()]).toEqual([null, ['already-ended']]);
  });

  it('counts as live a restore that ends between the baseline and the stream opening', () => {
    // The agent was at event 2 when asked; by the time the stream opened the restore had ended.
    expect(new Run().start(2, first).code()).toBe(0);
  });

  it('shows an event once, however often it arrives', () => {
    const run = new Run().start(0, first.slice(0, 2)).events(first.slice(0, 2));
    expect(run.shownIds()).toEqual([1, 2]);
    expect(run.state.lastId).toBe(2);
  });

  it('counts a restore whose end was never seen as failed', () => {
    // Events 3 (success) was dropped by the agent while we were away; the next restore's events arrive.
    const run = new Run().start(2, first.slice(0, 2)).feed({ kind: 'missed', missed: 1, firstAvailableId: 4 }).events(second.slice(0, 1));
    expect(run.code()).toBe(1);
    expect(run.state.outcome).toMatchObject({ kind: 'unseen', restore: { id: 'restore-20181120T120000Z' } });
    expect(run.notices()).toEqual(['missed', 'done']);
  });

  it('is not decided by a backup', () => {
    const backup = eventsOf([access('12:00:00', '/v1/backup'), logger('12:00:05', 'success')]);
    const run = new Run().start(0, backup);
    expect(run.code()).toBeNull();
    expect(run.state.latest.backup?.state).toBe('succeeded');
  });

  it('ignores everything once decided', () => {
    const run = new Run().start(2, first);
    const before = run.state;
    run.events(second).feed({ kind: 'rejected', user: 'admin', withPassword: true });
    expect(run.state).toBe(before);
    expect(run.shownIds()).toEqual([1, 2, 3]);
  });

  it('marks an order poll that changed nothing but the count', () => {
    const polls = eventsOf([access('12:00:00', '/v1/restore'), access('12:00:01', '/v1/order'), access('12:00:02', '/v1/order')]);
    const run = new Run().start(0, polls);
    expect(run.output.flatMap((o) => (o.kind === 'event' ? [o.poll] : []))).toEqual([false, false, true]);
  });
});

describe('reduceWatch without --until-done', () => {
  it('shows everything and never decides on a restore', () => {
    const run = new Run({ untilDone: false }).start(0, TWO);
    expect(run.shownIds()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run.code()).toBeNull();
    expect(run.notices()).toEqual([]);
  });
});

describe('reduceWatch and the connection', () => {
  it('gives up with 2 after --timeout without a first connection', () => {
    const run = new Run({ timeoutMs: 5000 });
    run.feed({ kind: 'lost', reason: 'connection refused (ECONNREFUSED)', retryInMs: 500 });
    run.now = T0 + 4999;
    run.feed({ kind: 'tick' });
    expect(run.code()).toBeNull();
    run.now = T0 + 5000;
    run.feed({ kind: 'tick' });
    expect(run.code()).toBe(2);
    expect(run.state.outcome).toEqual({ kind: 'unreachable', reason: 'connection refused (ECONNREFUSED)', forMs: 5000 });
  });

  it('counts the timeout from the moment a connection is lost, and a reconnection stops it', () => {
    const run = new Run({ timeoutMs: 5000 }).start(0);
    run.now = T0 + 60_000;
    run.feed({ kind: 'tick' }, { kind: 'lost', reason: 'the agent is shutting down', retryInMs: 300 });
    run.now = T0 + 64_000;
    run.feed({ kind: 'connecting', attempt: 2 }, { kind: 'connected', after: 7 });
    run.now = T0 + 120_000;
    run.feed({ kind: 'tick' });
    expect(run.code()).toBeNull();
    run.feed({ kind: 'lost', reason: 'no data for 45s', retryInMs: 300 });
    run.now = T0 + 125_000;
    run.feed({ kind: 'tick' });
    expect(run.code()).toBe(2);
  });

  it('keeps trying without a timeout', () => {
    const run = new Run().feed({ kind: 'lost', reason: 'connection refused', retryInMs: 500 });
    run.now = T0 + 86_400_000;
    run.feed({ kind: 'tick' });
    expect(run.code()).toBeNull();
  });

  it('says once that the agent is unreachable, again when the reason changes, and when it is back', () => {
    const run = new Run().start(0);
    const lost = (reason: string): WatchInput => ({ kind: 'lost', reason, retryInMs: 1000 });
    run.feed(lost('the agent is shutting down'), { kind: 'connecting', attempt: 1 }, lost('connection refused'));
    run.feed({ kind: 'connecting', attempt: 2 }, lost('connection refused'), { kind: 'connecting', attempt: 3 });
    run.now = T0 + 3000;
    run.feed({ kind: 'connected', after: 12 });
    expect(run.output.map((o) => (o.kind === 'notice' ? o.notice : null))).toEqual([
      { kind: 'lost', reason: 'the agent is shutting down', retryInMs: 1000 },
      { kind: 'lost', reason: 'connection refused', retryInMs: 1000 },
      { kind: 'reconnected', after: 12, downForMs: 3000 },
    ]);
  });

  it('exits 3 on a rejected password and 2 on an address that is not an agent', () => {
    expect(new Run({ untilDone: false }).feed({ kind: 'rejected', user: 'admin', withPassword: true }).code()).toBe(3);
    expect(new Run().feed({ kind: 'refused', reason: 'answered 404' }).code()).toBe(2);
  });
});
