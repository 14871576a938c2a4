/**
 * Scenario 1, replay throughput: the same generated production.log read by
 * `wc -l`, by a bare node:readline pass and by `restore-watcher replay --json`
 * (stdout to /dev/null). The three run one after another in every round, so a
 * busy machine slows them alike; the ratio to readline is taken per round and
 * its median reported.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SHAPE, writeLog } from '../generate.js';
import { hasCpuTime, mb, measure, median, rssSource, type Measured } from '../measure.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';

const READLINE = fileURLToPath(new URL('../baseline/readline-count.js', import.meta.url));
const STAGES = fileURLToPath(new URL('../baseline/stages.js', import.meta.url));
const GOAL_RATIO = 1.5;

interface Reader {
  name: string;
  command: string;
  args: (file: string) => string[];
  /** Reads an empty file: what the command costs before its first line. */
  empty?: boolean;
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
      { name: 'replay --json, empty file', command: process.execPath, args: () => [ctx.bin, 'replay', '--json', empty], empty: true },
    ];
    const empty = join(ctx.workDir, 'empty.log');
    writeFileSync(empty, '');
    const runs = new Map<string, Measured[]>(readers.map((r) => [r.name, []]));
    const stageNames = ['split', 'split+parse', 'split+parse+track'];
    const stageCpu = new Map<string, number[]>(stageNames.map((n) => [n, []]));
    // One untimed round first: the file is then in the page cache for every reader alike.
    for (const round of [0, ...Array.from({ length: rounds }, (_, i) => i + 1)]) {
      ctx.log(round === 0 ? 'warm-up round' : `round ${round} of ${rounds}`);
      for (const reader of readers) {
        const m = await measure(reader.command, reader.args(file), { workDir: ctx.workDir });
        if (m.exitCode !== 0) throw new Error(`${reader.name} exited ${m.exitCode}: ${m.stderr.trim()}`);
        if (round > 0) runs.get(reader.name)!.push(m);
      }
      if (round === 0) continue;
      for (const stage of stageNames) {
        const m = await measure(process.execPath, [STAGES, ctx.root, file, stage], { workDir: ctx.workDir, stdout: 'capture' });
        if (m.exitCode !== 0) throw new Error(`stage ${stage} exited ${m.exitCode}: ${m.stderr.trim()}`);
        stageCpu.get(stage)!.push(Number(m.stdout.trim()));
      }
    }
    const wall = (name: string): number[] => runs.get(name)!.map((m) => m.wallMs);
    const cpu = (name: string): number[] => runs.get(name)!.map((m) => m.cpuMs ?? NaN);
    const ratioOf = (values: (name: string) => number[], name: string): number => {
      const base = values('node:readline');
      return median(values(name).map((v, i) => v / base[i]!));
    };
    const replayRatio = ratioOf(wall, 'replay --json');
    const s3 = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : (ms / 1000).toFixed(3));
    const rows = readers.map((r) => {
      const ms = median(wall(r.name));
      const rss = Math.max(...runs.get(r.name)!.map((m) => m.peakRssBytes ?? 0));
      return [
        r.name,
        s3(ms),
        s3(Math.min(...wall(r.name))),
        s3(median(cpu(r.name))),
        r.empty ? '–' : Math.round(lines / (ms / 1000)).toLocaleString('en-US'),
        `${ratioOf(wall, r.name).toFixed(2)}×`,
        hasCpuTime() ? `${ratioOf(cpu, r.name).toFixed(2)}×` : 'n/a',
        rss > 0 ? mb(rss) : 'n/a',
      ];
    });
    const startup = median(cpu('replay --json, empty file'));
    const replayCpu = median(cpu('replay --json'));
    const stage = (name: string): number => median(stageCpu.get(name)!);
    const split = stage('split');
    const parse = stage('split+parse') - split;
    const track = stage('split+parse+track') - stage('split+parse');
    const rest = replayCpu - startup - stage('split+parse+track');
    const perLine = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : String(Math.round((ms * 1e6) / lines)));
    const stageRows: string[][] = [
      ['start-up (replay of an empty file)', s3(startup), '–'],
      ['split bytes into lines', s3(split), perLine(split)],
      ['parse lines into records', s3(parse), perLine(parse)],
      ['track records into events', s3(track), perLine(track)],
      ['the rest: reading, JSON output, collection', s3(rest), perLine(rest)],
      ['replay --json, whole process (per line: after start-up)', s3(replayCpu), perLine(replayCpu - startup)],
      ['node:readline, whole process', s3(median(cpu('node:readline'))), '–'],
    ];
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
          header: ['reader', 'median s', 'best s', 'CPU s', 'lines/s', '× readline', '× readline, CPU', 'peak RSS MB'],
          rows,
        },
        {
          caption:
            "Where replay's time goes, in CPU seconds (medians): each stage also runs alone, in a fresh process over " +
            'the file already in memory, and is timed from its first line to its last',
          header: ['stage', 'CPU s', 'ns per line'],
          rows: stageRows,
        },
      ],
      notes: [
        `Every round runs the readers back to back on the same file, after one untimed warm-up round; ` +
          `"× readline" is the median of the per-round ratios, so load from other processes cancels out.`,
        `Wall time is from spawn to exit, process start-up included; CPU is user plus system time. Peak RSS: ` +
          `${rssSource()}, the largest over the rounds.`,
      ],
    };
  },
};
