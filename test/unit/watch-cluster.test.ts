import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import { clusterOutcome, leaderOf } from '../../src/watch/cluster.js';
import { initialWatchState, reduceWatch, type WatchInput, type WatchState } from '../../src/watch/watch-state.js';
import { access, logger } from '../helpers/lines.js';

const T0 = Date.parse('2018-11-20T14:00:00Z');

/** One member's watch state after the agent's events for these log lines (and any further inputs). */
function member(lines: string[], ...more: WatchInput[]): WatchState {
  const p = new Pipeline(pipelineOptions(defaultConfig()), 'production.log');
  const events: WatchEvent[] = lines.length > 0 ? [...p.push(Buffer.from(`${lines.join('\n')}\n`)), ...p.end()] : [];
  let s = initialWatchState({ untilDone: true, sinceMs: null, timeoutMs: 10_000 }, T0);
  const inputs: WatchInput[] = [
    { kind: 'baseline', lastEventId: 0 },
    { kind: 'connected', after: null },
    ...events.map((event): WatchInput => ({ kind: 'event', event, raw: JSON.stringify(event) })),
    ...more,
  ];
  for (const input of inputs) s = reduceWatch(s, input, T0).state;
  return s;
}

const idle = (): WatchState => member([]);
const ended = (time: string): WatchState => member([access(time, '/v1/restore'), logger(time.replace(/:00$/, ':30'), 'success')]);
const running = (time: string): WatchState => member([access(time, '/v1/restore')]);
const gone = (): WatchState => member([], { kind: 'rejected', user: 'admin', withPassword: true });

describe('leaderOf: the member where the restore happens', () => {
  it('is nobody while no member has seen a restore', () => {
    expect(leaderOf([idle(), idle(), idle()])).toBeNull();
  });

  it('is the member with an active restore, even if another has a later ended one', () => {
    expect(leaderOf([ended('13:00:00'), running('12:00:00'), idle()])).toBe(1);
  });

  it('is the member whose restore was requested last, when none is active', () => {
    expect(leaderOf([ended('11:00:00'), idle(), ended('12:00:00')])).toBe(2);
  });
});

describe('clusterOutcome', () => {
  it('goes on while a member may still see the restore end', () => {
    expect(clusterOutcome([idle(), running('12:00:00'), gone()])).toBeNull();
  });

  it('is decided by the member whose restore ended live', () => {
    const decided = clusterOutcome([idle(), ended('12:00:00'), gone()]);
    expect(decided?.index).toBe(1);
    expect(decided?.outcome.kind).toBe('restore');
  });

  it('ends with the most serious end once no member is left', () => {
    const unreachable = member([], { kind: 'lost', reason: 'connection refused', retryInMs: 500 });
    const timedOut = reduceWatch(unreachable, { kind: 'tick' }, T0 + 20_000).state;
    expect(timedOut.outcome?.kind).toBe('unreachable');
    expect(clusterOutcome([timedOut, gone()])).toMatchObject({ index: 1, outcome: { kind: 'rejected' } });
  });
});
