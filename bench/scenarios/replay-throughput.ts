/**
 * Scenario 1, replay throughput: the same generated production.log read by
 * `wc -l`, by a bare node:readline pass and by `restore-watcher replay --json`
 * (stdout to /dev/null). The three run one after another in every round, so a
 * busy machine slows them alike; the ratio to readline is taken per round and
 * its median reported.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SHAPE, writeLog } from '../generate.js';
import { mb, measure, median, rssSource, type Measured } from '../measure.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';

const READLINE = fileURLToPath(new URL('../baseline/readline-count.js', import.meta.url));
const GOAL_RATIO = 1.5;

interface Reader {
  name: string;
  command: string;
  args: (file: string) => string[];
}

export const replayThroughput: Scenario = {
  id: 1,
  name: 'replay',
  title: 'Replay throughput',
  goal: `replay --json takes at most ${GOAL_RATIO}× the time of a bare node:readline pass over the same file`,
  design:
    'Generate a production.log (seeded), then in each round run `wc -l FILE`, a node:readline line count and ' +
    '`restore-watcher replay --json FILE > /dev/null`; report the median wall time, lines/s, the median per-round ' +
    'ratio to readline and the peak RSS.',
  async missing() {
    return null;
  },
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const lines = ctx.quick ? 200_000 : DEFAULT_SHAPE.lines;
    const rounds = ctx.rounds ?? (ctx.quick ? 3 : 7);
    const file = join(ctx.workDir, 'replay-production.log');
    ctx.log(`generating ${lines} lines`);
    const story = writeLog(file, { ...DEFAULT_SHAPE, lines });
    const readers: Reader[] = [
      { name: 'wc -l', command: 'wc', args: (f) => ['-l', f] },
      { name: 'node:readline', command: process.execPath, args: (f) => [READLINE, f] },
      { name: 'replay --json', command: process.execPath, args: (f) => [ctx.bin, 'replay', '--json', f] },
    ];
    const runs = new Map<string, Measured[]>(readers.map((r) => [r.name, []]));
    // One untimed round first: the file is then in the page cache for every reader alike.
    for (const round of [0, ...Array.from({ length: rounds }, (_, i) => i + 1)]) {
      ctx.log(round === 0 ? 'warm-up round' : `round ${round} of ${rounds}`);
      for (const reader of readers) {
        const m = await measure(reader.command, reader.args(file), { workDir: ctx.workDir });
        if (m.exitCode !== 0) throw new Error(`${reader.name} exited ${m.exitCode}: ${m.stderr.trim()}`);
        if (round > 0) runs.get(reader.name)!.push(m);
      }
    }
    const wall = (name: string): number[] => runs.get(name)!.map((m) => m.wallMs);
    const readlineWall = wall('node:readline');
    const ratioOf = (name: string): number => median(wall(name).map((ms, i) => ms / readlineWall[i]!));
    const replayRatio = ratioOf('replay --json');
    const rows = readers.map((r) => {
      const ms = median(wall(r.name));
      const rss = Math.max(...runs.get(r.name)!.map((m) => m.peakRssBytes ?? 0));
      return [
        r.name,
        (ms / 1000).toFixed(3),
        (Math.min(...wall(r.name)) / 1000).toFixed(3),
        Math.round(lines / (ms / 1000)).toLocaleString('en-US'),
        `${ratioOf(r.name).toFixed(2)}×`,
        rss > 0 ? mb(rss) : 'n/a',
      ];
    });
    const replayMs = median(wall('replay --json'));
    const replayRss = Math.max(...runs.get('replay --json')!.map((m) => m.peakRssBytes ?? 0));
    return {
      headline:
        `replay --json reads ${lines.toLocaleString('en-US')} lines in ${(replayMs / 1000).toFixed(2)} s ` +
        `(${Math.round(lines / (replayMs / 1000)).toLocaleString('en-US')} lines/s), ` +
        `${replayRatio.toFixed(2)}× a bare node:readline pass, peak RSS ${mb(replayRss)} MB`,
      goalMet: replayRatio <= GOAL_RATIO,
      tables: [
        {
          caption:
            `${lines.toLocaleString('en-US')} lines, ${mb(story.bytes)} MB, ${story.restores} restores ` +
            `(${story.failed} failing with a backtrace); median of ${rounds} rounds`,
          header: ['reader', 'median s', 'best s', 'lines/s', '× readline', 'peak RSS MB'],
          rows,
        },
      ],
      notes: [
        `Every round runs the three readers back to back on the same file, after one untimed warm-up round; ` +
          `"× readline" is the median of the per-round ratios, so load from other processes cancels out.`,
        `Wall time is from spawn to exit, process start-up included. Peak RSS: ${rssSource()}, the largest over the rounds.`,
      ],
    };
  },
};
