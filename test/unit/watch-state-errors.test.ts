import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import { exitCode, initialWatchState, reduceWatch, type WatchState } from '../../src/watch/watch-state.js';
import { access, logger } from '../helpers/lines.js';

// `restore.error` events say an error was logged while a restore runs; only the
// verdict that follows (succeeded, or failed after the grace) decides `watch --until-done`.

function eventsOf(lines: string[]): WatchEvent[] {
  const p = new Pipeline(pipelineOptions(defaultConfig()), 'production.log');
  return [...p.push(Buffer.from(`${lines.join('\n')}\n`)), ...p.finish()];
}

function watch(events: WatchEvent[]): { state: WatchState; decidedAfter: number | null } {
  let state = initialWatchState({ untilDone: true, sinceMs: null, timeoutMs: null }, 0);
  state = reduceWatch(state, { kind: 'baseline', lastEventId: 0 }, 0).state;
  state = reduceWatch(state, { kind: 'connected', after: null }, 0).state;
  let decidedAfter: number | null = null;
  for (const event of events) {
    state = reduceWatch(state, { kind: 'event', event, raw: JSON.stringify(event) }, 0).state;
    if (state.outcome !== null && decidedAfter === null) decidedAfter = event.id;
  }
  return { state, decidedAfter };
}

describe('watch --until-done and restore.error', () => {
  it('does not end on an error, and exits 0 when the restore then succeeds', () => {
    const events = eventsOf([
      access('12:00:00', '/v1/restore'),
      logger('12:00:10', 'could not remove temporary file', 'ERROR'),
      access('12:00:15', '/v1/order'),
      logger('12:00:30', 'success'),
    ]);
    expect(events.map((e) => e.type)).toEqual(['restore.requested', 'restore.error', 'restore.succeeded']);
    const { state, decidedAfter } = watch(events);
    expect(decidedAfter).toBe(events.at(-1)!.id);
    expect(exitCode(state.outcome!)).toBe(0);
  });

  it('exits 1 on the verdict that follows an error with no success', () => {
    const events = eventsOf([access('12:00:00', '/v1/restore'), logger('12:00:10', 'could not download backup', 'ERROR')]);
    expect(events.map((e) => e.type)).toEqual(['restore.requested', 'restore.error', 'restore.failed']);
    const { state, decidedAfter } = watch(events);
    expect(decidedAfter).toBe(events.at(-1)!.id);
    expect(exitCode(state.outcome!)).toBe(1);
  });
});
