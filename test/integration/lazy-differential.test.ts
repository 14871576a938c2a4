/**
 * The lazy reader (src/scan/lazy.ts) against the full pipeline: over the
 * fixtures, the corpus and seeded awkward logs, under the default rules and
 * rules from a config (paths with parameters, patterns with and without fixed
 * bytes), in several read sizes and with small memory limits (so its ring is
 * cut and overflows often), it must give the same events and line counts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { WatchEvent } from '../../src/model.js';
import { Pipeline, pipelineOptions, type PipelineOptions } from '../../src/pipeline.js';
import { LAZY_LIMITS, LazyPipeline, needlesFor, type LazyLimits } from '../../src/scan/lazy.js';
import { compileRules, type Rules } from '../../src/track/rules.js';
import type { TrackerState } from '../../src/track/tracker.js';
import { awkwardLog } from '../helpers/awkward-log.js';
import { fixtureLogs } from '../helpers/cli.js';

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
 * With `sink`, events are taken as they are made (`onEvents`, as replay takes them), else from push's result.
 */
function lazy(bytes: Buffer, options: PipelineOptions, size: number, limits: LazyLimits, sink = false): Told {
  const p = new LazyPipeline(options, 'production.log', limits);
  const buffer = Buffer.alloc(size);
  const events: WatchEvent[] = [];
  const returned: WatchEvent[] = [];
  if (sink) p.onEvents = (made) => events.push(...made);
  for (let i = 0; i < bytes.length; i += size) {
    const n = bytes.copy(buffer, 0, i, i + size);
    returned.push(...p.push(buffer.subarray(0, n)));
    buffer.fill(0x41);
  }
  returned.push(...p.finish());
  if (sink) expect(returned).toEqual([]);
  else events.push(...returned);
  return { events, lines: p.counters.lines, parsed: parsedRecords(p.pipeline), state: p.pipeline.trackerState };
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
      const runs: [number, LazyLimits, boolean][] = [[1, SMALL, false], [64, LAZY_LIMITS, true], [65536, SMALL, false], [65536, LAZY_LIMITS, true]];
      for (const [size, limits, sink] of runs) {
        const got = lazy(bytes, options, size, limits, sink);
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
          const got = lazy(bytes, options, size, limits, limits === LAZY_LIMITS);
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
