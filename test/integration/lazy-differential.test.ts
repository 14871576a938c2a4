/**
 * The lazy reader (src/scan/lazy.ts) against the full pipeline: over the
 * fixtures, the corpus and seeded awkward logs, under the default rules and
 * rules from a config (paths with parameters, patterns with and without fixed
 * bytes), in several read sizes and with small memory limits (so its ring is
 * cut and overflows often), it must give the same events and line counts.
 *
 * The agent reads through it too (agent/log-reader.ts), driven as the follower
 * drives it: chunks named by the file they were read from, pauses at the end of
 * what is written, and restarts from the checkpoint it would have written (its
 * position, tracker state and the zone learned by `timezone: auto`) with the
 * journal skipping ids it holds. Its
 * journal must be the events of the full pipeline driven the same way, and every
 * event made again after a restart the one journaled before.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import { LogReader } from '../../src/agent/log-reader.js';
import type { SourceFile, WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions, type PipelineOptions } from '../../src/pipeline.js';
import { LAZY_LIMITS, LazyPipeline, needlesFor, type LazyLimits } from '../../src/scan/lazy.js';
import { compileRules, type Rules } from '../../src/track/rules.js';
import type { TrackerState } from '../../src/track/tracker.js';
import { awkwardLog } from '../helpers/awkward-log.js';
import { fixtureLogs } from '../helpers/cli.js';
import { access, logger } from '../helpers/lines.js';

interface Told {
  events: WatchEvent[];
  lines: number;
  parsed: number;
  /** The tracker's state at the end: what a checkpoint would hold. */
  state: TrackerState;
}

function full(bytes: Buffer, options: PipelineOptions): Told {
  const p = new Pipeline(options, 'production.log');
  const events = [...p.push(bytes), ...p.finish()];
  return { events, lines: p.counters.lines, parsed: parsedRecords(p), state: p.trackerState };
}

/**
 * Reads through one reused buffer, as replay does, so a reader that keeps a chunk's memory is caught.
 * With `sink`, events are taken as they are made (`onEvents`, as replay takes them), else from push's result;
 * with `inPlace`, chunks are read where `readBuffer` says while it says one, as replay reads them.
 */
function lazy(bytes: Buffer, options: PipelineOptions, size: number, limits: LazyLimits, sink = false, inPlace = false): Told {
  const p = new LazyPipeline(options, 'production.log', limits);
  const buffer = Buffer.alloc(size);
  const events: WatchEvent[] = [];
  const returned: WatchEvent[] = [];
  if (sink) p.onEvents = (made) => events.push(...made);
  for (let i = 0; i < bytes.length; i += size) {
    const into = (inPlace ? p.readBuffer(size) : null) ?? buffer;
    const n = bytes.copy(into, 0, i, i + size);
    returned.push(...p.push(into.subarray(0, n)));
    buffer.fill(0x41);
  }
  returned.push(...p.finish());
  if (sink) expect(returned).toEqual([]);
  else events.push(...returned);
  return { events, lines: p.counters.lines, parsed: parsedRecords(p.pipeline), state: p.pipeline.trackerState };
}

const SOURCE: SourceFile = { path: 'production.log', identity: { dev: 1, ino: 2 } };

/** How the agent is driven: a pause after every `pauseEvery`-th chunk, a restart from its checkpoint after every `restartEvery`-th. */
interface Drive {
  size: number;
  pauseEvery: number;
  restartEvery: number;
}

/** The full pipeline as the agent drove it before the lazy reader: chunks, pauses, no restarts. */
function fullAsAgent(bytes: Buffer, options: PipelineOptions, drive: Drive): Told {
  const p = new Pipeline(options, SOURCE.path);
  const events: WatchEvent[] = [...p.startFile(SOURCE, 0)];
  let n = 0;
  for (let i = 0; i < bytes.length; i += drive.size) {
    events.push(...p.push(bytes.subarray(i, i + drive.size), SOURCE));
    if (++n % drive.pauseEvery === 0) events.push(...p.pause());
  }
  events.push(...p.pause());
  return { events, lines: p.counters.lines, parsed: parsedRecords(p), state: p.trackerState };
}

/**
 * The agent's reader over the same chunks, restarted from its checkpoint every
 * `restartEvery` chunks; the journal takes only ids above its last, and an event
 * made again must equal the one journaled. `lines` and `state` are those of the
 * last run (without restarts, of the whole file).
 */
function agentReader(bytes: Buffer, options: PipelineOptions, drive: Drive, limits: LazyLimits): Told & { restarts: number } {
  const journal: WatchEvent[] = [];
  const file = (made: WatchEvent[]): void => {
    for (const e of made) {
      const last = journal.at(-1)?.id ?? 0;
      if (e.id > last) journal.push(e);
      else expect(e).toEqual(journal.find((j) => j.id === e.id));
    }
  };
  let reader = new LogReader(options, SOURCE.path, 0, undefined, limits);
  file(reader.startFile(SOURCE, 0));
  const buffer = Buffer.alloc(drive.size);
  let at = 0;
  let n = 0;
  let restarts = 0;
  let restartedAt = 0;
  while (at < bytes.length) {
    const got = bytes.copy(buffer, 0, at, at + drive.size);
    file(reader.push(buffer.subarray(0, got), SOURCE));
    buffer.fill(0x41);
    at += got;
    n++;
    if (n % drive.pauseEvery === 0) file(reader.pause());
    const { offset } = reader.position;
    expect(offset).toBeLessThanOrEqual(at);
    // Restarted only past the last restart's point: a crash loop that reads nothing new is not a model of anything.
    if (n % drive.restartEvery === 0 && offset > restartedAt) {
      restartedAt = offset;
      reader = new LogReader(options, SOURCE.path, offset, reader.trackerState, limits, reader.zoneState);
      file(reader.startFile(SOURCE, offset));
      at = offset;
      restarts++;
    }
  }
  file(reader.pause());
  return { events: journal, lines: reader.counters.lines, parsed: 0, state: reader.trackerState, restarts };
}

function parsedRecords(p: Pipeline): number {
  return Object.values(p.counters.records).reduce((a, b) => a + b, 0);
}

const SMALL: LazyLimits = { trimAt: 2048, maxRing: 8192, maxPartial: 4096 };

const optionsFor = (rules: Partial<Rules>, timezone = 'auto'): PipelineOptions => ({
  ...pipelineOptions(defaultConfig()),
  timezone,
  rules: compileRules(rules),
});

const CONFIGS: [string, PipelineOptions][] = [
  ['default rules', pipelineOptions(defaultConfig())],
  ['default rules, Europe/Berlin', optionsFor({}, 'Europe/Berlin')],
  [
    'paths with parameters and anchored patterns',
    optionsFor({
      restoreRequest: [{ method: 'POST', path: '/v1/restore' }, { method: 'POST', pattern: '^/v1/instances/[a-z0-9-]+/restore$' }],
      backupRequest: [{ method: 'POST', path: '/v1/backup' }, { method: 'POST', path: '/v1/instances/:id/backup' }],
      progressRequests: [{ method: 'POST', path: '/v1/order' }, { method: 'GET', pattern: '^/v1/restore/status$' }],
    }),
  ],
  ['a start rule with no fixed bytes', optionsFor({ restoreRequest: { method: 'POST', pattern: '.*restore' } })],
  ['a poll rule with no fixed bytes', optionsFor({ progressRequests: [{ method: 'POST', pattern: '(/v1)?/order' }] })],
];

describe('the lazy reader tells what the full pipeline tells', () => {
  it('derives needles from the rules, and none where a start rule gives no fixed bytes', () => {
    expect(needlesFor(CONFIGS[0]![1].rules)!.starts.map(String)).toEqual(['"POST /v1/restore', '"POST /v1/backup']);
    expect(needlesFor(CONFIGS[2]![1].rules)!.starts.map(String)).toEqual(['"POST /v1/restore', '"POST /v1/instances/', '"POST /v1/backup', '"POST /v1/instances/']);
    expect(needlesFor(CONFIGS[3]![1].rules)).toBeNull();
    expect(needlesFor(CONFIGS[4]![1].rules)!.polls).toBeNull();
  });

  const fixtures = new URL('../../fixtures/', import.meta.url);
  const files = fixtureLogs();
  it.each(files)('%s', (name) => {
    const bytes = readFileSync(new URL(name, fixtures));
    for (const options of [CONFIGS[0]![1], CONFIGS[2]![1]]) {
      const expected = full(bytes, options);
      const runs: [number, LazyLimits, boolean, boolean][] = [
        [1, SMALL, false, false],
        [64, LAZY_LIMITS, true, false],
        [65536, SMALL, false, false],
        [65536, LAZY_LIMITS, true, false],
        [61, SMALL, false, true],
        [4096, LAZY_LIMITS, true, true],
      ];
      for (const [size, limits, sink, inPlace] of runs) {
        const got = lazy(bytes, options, size, limits, sink, inPlace);
        expect(got.events).toEqual(expected.events);
        expect(got.lines).toBe(expected.lines);
        expect(got.state).toEqual(expected.state);
      }
    }
  });

  it.each(CONFIGS)('generated awkward logs, %s', (_, options) => {
    let skipped = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const bytes = awkwardLog({ seed, lines: 1500 });
      const expected = full(bytes, options);
      expect(expected.events.length).toBeGreaterThan(0);
      for (const size of [509, 65536]) {
        for (const limits of [LAZY_LIMITS, SMALL]) {
          const got = lazy(bytes, options, size, limits, limits === LAZY_LIMITS, size === 509);
          expect(got.events).toEqual(expected.events);
          expect(got.lines).toBe(expected.lines);
          expect(got.state).toEqual(expected.state);
          skipped += expected.parsed - got.parsed;
        }
      }
    }
    // Where the rules give needles, lines were skipped: the comparison is not of two full readings.
    if (needlesFor(options.rules) !== null) expect(skipped).toBeGreaterThan(0);
    else expect(skipped).toBe(0);
  });
});

/** `HH:MM:SS`, `s` seconds into 2018-11-20 (UTC). */
const clock = (s: number): string => new Date(Date.UTC(2018, 10, 20) + s * 1000).toISOString().slice(11, 19);

/**
 * A quiet log, polls and chatter a second apart, with the lines `special` gives
 * halfway; `restoreFirst`: after a restore, so the tracker is idle between polls.
 */
function quietLog(special: (time: string) => string[], restoreFirst = true): Buffer {
  const out: string[] = restoreFirst ? [access(clock(0), '/v1/restore'), logger(clock(1), 'success')] : [];
  for (let s = 2; s < 600; s++) {
    out.push(s % 3 === 0 ? logger(clock(s), 'heartbeat sent to backup manager') : access(clock(s), '/v1/order'));
    if (s === 300) out.push(...special(clock(s)));
  }
  return Buffer.from(`${out.join('\n')}\n`);
}

/** The lazy reader over `bytes` in several read sizes and limits gives the full pipeline's events, which include `kind`. */
function expectSameEvents(bytes: Buffer, kind: string, options = CONFIGS[0]![1]): void {
  const expected = full(bytes, options);
  expect(expected.events.map((e) => e.type)).toContain(kind);
  for (const size of [1, 61, 509, 4096, 65536]) {
    for (const limits of [LAZY_LIMITS, SMALL]) {
      const got = lazy(bytes, options, size, limits, false, size !== 1);
      expect(got.events).toEqual(expected.events);
      expect(got.lines).toBe(expected.lines);
      expect(got.state).toEqual(expected.state);
      expect(got.parsed).toBeLessThan(expected.parsed);
    }
  }
}

describe('the lazy reader stops at every line the idle tracker may react to', () => {
  it('a Rails Started line whose query goes on on the next line', () => {
    const bytes = quietLog((t) => [
      logger(t, 'Started POST "/v1/restore?verbose=1'),
      `&x=2" for 172.28.19.51 at 2018-11-20 ${t} +0000`,
      logger(t, 'Completed 200 OK in 3ms'),
      logger(t, 'pg_restore: 10% done'),
      logger(t, 'success'),
    ]);
    expectSameEvents(bytes, 'restore.requested');
  });

  it('a Rails Started line after a program name that has Started and quotes in it', () => {
    const bytes = quietLog((t) => [
      logger(t, 'Started POST "/v1/restore?a=1').replace(' -- : ', ' -- Started "rails": '),
      `b=2" for 172.28.19.51 at 2018-11-20 ${t} +0000`,
      logger(t, 'Completed 200 OK in 3ms'),
      logger(t, 'success'),
    ]);
    expectSameEvents(bytes, 'restore.requested');
  });
});

describe('before the first operation, the lazy reader stops where a phase rule may begin one', () => {
  // A log that begins during a restore: its request is in the file before.
  it('at a message with a phase word', () => {
    expectSameEvents(quietLog((t) => [logger(t, 'downloading backup a9s-pg-1542859215559')], false), 'restore.requested');
  });

  it('at a phase word in another case on a continuation line', () => {
    expectSameEvents(quietLog((t) => [logger(t, 'worker said:'), '  part 3 of 12: DownLoad started'], false), 'restore.requested');
  });

  it('while a record a phase rule matches is held, with no poll to tell it for a while', () => {
    // Status checks end each logger entry (a reader stops only between records) and tell nothing held.
    const chatter = (t: string): string[] => Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? logger(t, 'connection pool: 1 of 5 in use') : access(t, '/v1/status')));
    expectSameEvents(quietLog((t) => [logger(t, 'restoring the database'), ...chatter(t)], false), 'restore.requested');
  });

  it('at an exception report whose message, made from the line, a phase rule matches', () => {
    const options = optionsFor({ phases: [{ name: 'boom', pattern: 'Boom: now', kind: 'backup' }] });
    expectSameEvents(quietLog((t) => [`2018-11-20 ${t} - Boom - now:`, '\t/var/vcap/a.rb:1'], false), 'backup.requested', options);
  });

  it('and parses every line before it when a phase rule gives no words to look for', () => {
    const options = optionsFor({ phases: [{ name: 'odd', pattern: 'down\\x6coad', kind: 'restore' }] });
    const bytes = quietLog((t) => [logger(t, 'download')], false);
    expect(needlesFor(options.rules)!.unrequested).toBeNull();
    const expected = full(bytes, options);
    expect(expected.events.map((e) => e.type)).toContain('restore.requested');
    const got = lazy(bytes, options, 509, SMALL);
    expect(got.events).toEqual(expected.events);
    // Up to the line that began the restore, and after it while it runs, every line is parsed.
    expect(got.parsed).toBe(expected.parsed);
  });
});

describe("the agent's reader tells what the full pipeline tells the agent", () => {
  const drives: Drive[] = [
    { size: 509, pauseEvery: 7, restartEvery: Number.POSITIVE_INFINITY },
    { size: 4096, pauseEvery: 1, restartEvery: 5 },
    { size: 65536, pauseEvery: 3, restartEvery: 2 },
  ];

  it.each(CONFIGS)('generated awkward logs, %s', (_, options) => {
    let restarts = 0;
    for (let seed = 11; seed <= 13; seed++) {
      const bytes = awkwardLog({ seed, lines: 1500 });
      for (const drive of drives) {
        const expected = fullAsAgent(bytes, options, drive);
        expect(expected.events.length).toBeGreaterThan(0);
        for (const limits of [LAZY_LIMITS, SMALL]) {
          const got = agentReader(bytes, options, drive, limits);
          expect(got.events).toEqual(expected.events);
          restarts += got.restarts;
          if (got.restarts === 0) {
            expect(got.lines).toBe(expected.lines);
            expect(got.state).toEqual(expected.state);
          }
        }
      }
    }
    expect(restarts).toBeGreaterThan(0);
  });

  // The zone of the Logger times is learned from the access lines: a restart between a zone
  // change and the next access line reads the Logger lines between them at the learned zone.
  it.each(['timezone-berlin', 'timezone-dst-fallback'])('corpus %s, restarted from its checkpoints anywhere', (name) => {
    const bytes = readFileSync(new URL(`../../fixtures/corpus/${name}.log`, import.meta.url));
    const options = CONFIGS[0]![1];
    expect(options.timezone).toBe('auto');
    for (const size of [1, 17, 64, 150]) {
      for (const pauseEvery of [1, 2, Number.POSITIVE_INFINITY]) {
        const expected = fullAsAgent(bytes, options, { size, pauseEvery, restartEvery: Number.POSITIVE_INFINITY });
        expect(expected.events.length).toBeGreaterThan(0);
        for (const restartEvery of [1, 2, 3]) {
          for (const limits of [LAZY_LIMITS, SMALL]) {
            const got = agentReader(bytes, options, { size, pauseEvery, restartEvery }, limits);
            expect(got.restarts).toBeGreaterThan(0);
            expect(got.events).toEqual(expected.events);
          }
        }
      }
    }
  });

  it('resumes from a checkpoint taken while lines were being skipped', () => {
    const bytes = awkwardLog({ seed: 5, lines: 3000 });
    const options = CONFIGS[0]![1];
    const expected = fullAsAgent(bytes, options, { size: 1024, pauseEvery: Number.POSITIVE_INFINITY, restartEvery: 0 });
    // A reader that never pauses is mid-skip at most chunk ends: its checkpoint is then a ring's start.
    let midSkip = 0;
    const reader = new LogReader(options, SOURCE.path, 0, undefined, SMALL);
    reader.startFile(SOURCE, 0);
    for (let i = 0; i < bytes.length; i += 1024) {
      reader.push(bytes.subarray(i, i + 1024), SOURCE);
      const { offset } = reader.position;
      if (offset < Math.min(i + 1024, bytes.length) - 1024) midSkip++;
    }
    expect(midSkip).toBeGreaterThan(0);
    const got = agentReader(bytes, options, { size: 1024, pauseEvery: Number.POSITIVE_INFINITY, restartEvery: 3 }, SMALL);
    expect(got.restarts).toBeGreaterThan(10);
    expect(got.events).toEqual(expected.events);
  });
});
