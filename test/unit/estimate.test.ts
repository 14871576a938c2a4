import { describe, expect, it } from 'vitest';
import type { Operation, WatchEvent } from '../../src/model.js';
import { operation } from '../helpers/operation.js';
import { estimateRemaining, median, notePhaseStarts, phaseSpans, type PastRestore } from '../../src/report/estimate.js';

const T0 = Date.parse('2018-11-22T09:00:00.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

function restore(id: string, startS: number, endS: number | null, state?: Operation['state']): Operation {
  return operation('restore', id, at(startS), endS === null ? null : at(endS), state);
}

function past(op: Operation, phases: [string, number][] = []): PastRestore {
  return { op, phases: phaseSpans(op, phases.map(([phase, s]) => ({ phase, ms: T0 + s * 1000 })), 0) };
}

describe('phases', () => {
  it('runs each phase to the next one, and the last to the end (or now)', () => {
    const op = restore('r', 0, null);
    const events = [
      ['download', 5],
      ['download', 10],
      ['restore', 65],
    ].map(([phase, s]) => ({ time: at(s as number), operation: { ...op, phase } }) as unknown as WatchEvent);
    const starts = notePhaseStarts([], events, (e) => (e.operation as { phase?: string }).phase ?? null);
    expect(starts).toHaveLength(2);
    expect(phaseSpans(op, starts, T0 + 100_000)).toEqual([
      { phase: 'download', startedAt: at(5), ms: 60_000, current: false },
      { phase: 'restore', startedAt: at(65), ms: 35_000, current: true },
    ]);
  });
});

describe('estimateRemaining', () => {
  const current = restore('now', 10_000, null);
  const now = T0 + 10_060 * 1000;

  it('has no estimate without an earlier successful restore', () => {
    const failed = past(restore('f', 0, 300, 'failed'));
    const after = past(restore('later', 20_000, 20_300));
    expect(estimateRemaining(current, [], [failed, after], now)).toBeNull();
  });

  it('takes the median whole duration of earlier successful restores, less the time so far', () => {
    const e = estimateRemaining(current, [], [past(restore('a', 0, 240)), past(restore('b', 1000, 1300)), past(restore('c', 2000, 3000)), past(restore('x', 3000, 3010, 'failed'))], now);
    expect(e).toMatchObject({ basis: 'whole', from: 3, medianMs: 300_000, remainingMs: 240_000, overdue: false });
    expect(e?.text).toBe('~4 min left, from 3 earlier restores');
  });

  it('starts from the current phase when earlier restores went through it', () => {
    const a = past(restore('a', 0, 600), [['download', 5], ['restore', 200]]);
    const b = past(restore('b', 1000, 1500), [['download', 1005], ['restore', 1300]]);
    const c = past(restore('c', 2000, 2100)); // no phases: not a basis for the phase
    const phases = phaseSpans(current, [{ phase: 'download', ms: T0 + 10_005_000 }, { phase: 'restore', ms: T0 + 10_030_000 }], now);
    const e = estimateRemaining(current, phases, [a, b, c], now);
    // From the start of `restore` to the end: 400 s and 200 s; median 300 s, 30 s spent.
    expect(e).toMatchObject({ basis: 'phase', phase: 'restore', from: 2, medianMs: 300_000, remainingMs: 270_000 });
    expect(e?.text).toBe('~5 min left, from 2 earlier restores with a restore phase');
  });

  it('says a restore is past the median instead of giving a negative time', () => {
    const e = estimateRemaining(current, [], [past(restore('a', 0, 30))], now);
    expect(e).toMatchObject({ overdue: true, remainingMs: 0 });
    expect(e?.text).toBe('longer than usual: the median of 1 earlier restore is 30s');
  });

  it('median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
  });
});
