import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';
import { eventLine, fit, liveView, noticeLine, outcomeLine, palette, wantsColour } from '../../src/watch/render.js';
import { initialWatchState, reduceWatch, type WatchInput, type WatchState } from '../../src/watch/watch-state.js';
import { access, logger } from '../helpers/lines.js';

function eventsOf(lines: string[]): WatchEvent[] {
  // The 403 is a failure message, so a restore fails on that line; an ERROR alone awaits a success for a grace.
  const config = defaultConfig();
  config.track.rules.failureMessages = ['403 Forbidden'];
  const p = new Pipeline(pipelineOptions(config), 'production.log');
  return [...p.push(Buffer.from(`${lines.join('\n')}\n`)), ...p.finish()];
}

const at = (iso: string): number => Date.parse(iso);
const URL = 'http://127.0.0.1:9465';
const mono = { palette: palette(false), width: 200, url: URL };

function stateAfter(inputs: WatchInput[], untilDone = true, now = at('2018-11-20T12:00:00Z')): WatchState {
  let state = initialWatchState({ untilDone, sinceMs: null, timeoutMs: null }, now);
  for (const input of inputs) state = reduceWatch(state, input, now).state;
  return state;
}

const connected = (baseline: number): WatchInput[] => [
  { kind: 'baseline', lastEventId: baseline },
  { kind: 'connected', after: null },
];
const asInputs = (events: WatchEvent[]): WatchInput[] => events.map((event) => ({ kind: 'event', event, raw: '' }));

const running = eventsOf([
  access('12:00:00', '/v1/restore'),
  access('12:00:01', '/v1/order'),
  logger('12:00:55', 'downloading backup a9s-pg-1542859215559'),
]);
const failing = eventsOf([
  access('12:00:00', '/v1/restore'),
  logger('12:00:20', 'could not download backup: 403 Forbidden\n/var/vcap/packages/backup-agent/lib/restore.rb:42\n/x.rb:1', 'ERROR'),
]);

describe('eventLine', () => {
  it('is one plain line: time, restore, what happened, message', () => {
    expect(running.map((e) => eventLine(e, palette(false)))).toEqual([
      '2018-11-20 12:00:00Z  restore-20181120T120000Z  requested  restore requested by admin at 172.28.19.51: POST /v1/restore answered 200',
      '2018-11-20 12:00:01Z  restore-20181120T120000Z  progress   POST /v1/order answered 200',
      '2018-11-20 12:00:55Z  restore-20181120T120000Z  progress   downloading backup a9s-pg-1542859215559',
    ]);
  });

  it('shows a backtrace as a count on one line, or whole when asked', () => {
    expect(eventLine(failing[1]!, palette(false))).toBe(
      '2018-11-20 12:00:20Z  restore-20181120T120000Z  failed     could not download backup: 403 Forbidden (+2 lines)',
    );
    expect(eventLine(failing[1]!, palette(false), true).split('\n')).toEqual([
      '2018-11-20 12:00:20Z  restore-20181120T120000Z  failed     could not download backup: 403 Forbidden',
      '    /var/vcap/packages/backup-agent/lib/restore.rb:42',
      '    /x.rb:1',
    ]);
  });

  it('colours only with a colour palette', () => {
    expect(eventLine(failing[1]!, palette(false))).not.toContain('\x1b[');
    expect(eventLine(failing[1]!, palette(true))).toContain('\x1b[31mfailed');
  });
});

describe('wantsColour', () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [false, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true],
  ])('tty %s, env %j: %s', (tty, env, expected) => {
    expect(wantsColour(tty, env)).toBe(expected);
  });
});

describe('liveView', () => {
  it('shows a running restore: state, elapsed, time since last activity, last message, spinner', () => {
    const state = stateAfter([...connected(3), ...asInputs(running)]);
    expect(liveView(state, at('2018-11-20T12:01:05Z'), mono)).toEqual([
      '⠹ restore-20181120T120000Z  running  1m05s elapsed  last activity 10s ago  1 order poll',
      '  downloading backup a9s-pg-1542859215559',
      `  ${URL}  connected`,
    ]);
  });

  it('moves the spinner and the clocks with the time alone', () => {
    const state = stateAfter([...connected(3), ...asInputs(running)]);
    const a = liveView(state, at('2018-11-20T12:01:05.000Z'), mono)[0]!;
    const b = liveView(state, at('2018-11-20T12:01:05.080Z'), mono)[0]!;
    expect(a[0]).not.toBe(b[0]);
    expect(liveView(state, at('2018-11-20T12:03:00Z'), mono)[0]).toContain('3m elapsed  last activity 2m05s ago');
  });

  it('shows how a restore ended, without a spinner', () => {
    const state = stateAfter([...connected(0), ...asInputs(failing)]);
    expect(liveView(state, at('2018-11-20T12:05:00Z'), mono)).toEqual([
      '✖ restore-20181120T120000Z  failed after 20s',
      '  could not download backup: 403 Forbidden',
      `  ${URL}  connected`,
    ]);
  });

  it('says when it waits for a restore, and for the next one after an ended one', () => {
    const now = at('2018-11-20T12:05:00Z');
    expect(liveView(stateAfter([]), now, mono)[0]).toMatch(/^. waiting for the agent$/);
    expect(liveView(stateAfter(connected(0)), now, mono)[0]).toMatch(/^. no restore yet: waiting for one$/);
    const waiting = liveView(stateAfter([...connected(2), ...asInputs(failing)]), now, mono);
    expect(waiting.slice(0, 2).map((l) => l.slice(2))).toEqual([
      'waiting for the next restore',
      'restore-20181120T120000Z had already ended: failed at 2018-11-20 12:00:20Z',
    ]);
  });

  it('shows a lost connection, for how long, and when the next try is', () => {
    const t = at('2018-11-20T12:00:00Z');
    let state = stateAfter(connected(0), true, t);
    state = reduceWatch(state, { kind: 'lost', reason: 'connection refused (ECONNREFUSED)', retryInMs: 4000 }, t).state;
    expect(liveView(state, t + 1500, mono).at(-1)).toBe(
      `  ${URL}  unreachable for 2s: connection refused (ECONNREFUSED); next try in 2.5s`,
    );
  });

  it('fits every line to the terminal width, escape sequences and all', () => {
    const state = stateAfter([...connected(3), ...asInputs(running)]);
    const lines = liveView(state, at('2018-11-20T12:01:05Z'), { palette: palette(true), width: 30, url: URL });
    for (const line of lines) expect([...line.replace(/\x1b\[[0-9;]*m/g, '')].length).toBeLessThanOrEqual(30);
    expect(lines[0]).toMatch(/…\x1b\[0m$/);
  });
});

describe('fit', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly ten', 11, 'exactly ten'],
    ['a longer line', 8, 'a longe…'],
    ['\x1b[1mbold\x1b[22m text', 6, '\x1b[1mbold\x1b[22m …\x1b[0m'],
  ])('%j in %i columns', (line, width, expected) => {
    expect(fit(line, width)).toBe(expected);
  });
});

describe('sentences', () => {
  const [, failed] = failing;
  it('say how the watch ended', () => {
    const succeeded = eventsOf([access('12:00:00', '/v1/restore'), logger('12:05:03', 'success')])[1]!;
    expect(outcomeLine({ kind: 'restore', restore: succeeded.operation }, URL)).toBe('restore-20181120T120000Z succeeded in 5m03s');
    expect(outcomeLine({ kind: 'restore', restore: failed!.operation }, URL)).toBe(
      'restore-20181120T120000Z failed after 20s: could not download backup: 403 Forbidden',
    );
    expect(outcomeLine({ kind: 'unreachable', reason: 'connection refused (ECONNREFUSED)', forMs: 30_000 }, URL)).toBe(
      `could not reach the agent at ${URL} for 30s (connection refused (ECONNREFUSED)); giving up`,
    );
    expect(outcomeLine({ kind: 'rejected', user: 'admin', withPassword: true }, URL)).toBe(
      `the agent at ${URL} rejected the password for user "admin"`,
    );
    expect(outcomeLine({ kind: 'rejected', user: 'admin', withPassword: false }, URL)).toContain('RESTORE_WATCHER_PASSWORD');
  });

  it('say what happened to the connection', () => {
    expect(noticeLine({ kind: 'missed', missed: 3, firstAvailableId: 40 }, URL)).toBe(
      '3 events were dropped by the agent before they could be shown; resuming at event 40',
    );
    expect(noticeLine({ kind: 'lost', reason: 'the agent is shutting down', retryInMs: 750 }, URL)).toBe(
      `${URL}: the agent is shutting down; trying again in 0.8s`,
    );
    expect(noticeLine({ kind: 'reconnected', after: 41, downForMs: 5000 }, URL)).toBe(
      `${URL}: connected again after 5s, resuming after event 41`,
    );
  });
});
