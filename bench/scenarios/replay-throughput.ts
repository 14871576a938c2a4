/**
 * Scenario 1, replay throughput: the same generated production.log read by
 * `wc -l`, by a bare node:readline pass and by `restore-watcher replay --json`
 * (stdout to /dev/null). The three run one after another in every round, so a
 * busy machine slows them alike; the ratio to readline is taken per round and
 * its median reported.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SHAPE, writeLog } from '../generate.js';
import { hasCpuTime, mb, measure, median, rssSource, type Measured } from '../measure.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import { AGENT_NODE_FLAGS } from '../live.js';
import { pollLine } from '../polls.js';

const READLINE = fileURLToPath(new URL('../baseline/readline-count.js', import.meta.url));
const STAGES = fileURLToPath(new URL('../baseline/stages.js', import.meta.url));
const GOAL_RATIO = 0.8;
/** Replay of an empty file against `node -e 0`: start-up. */
const GOAL_STARTUP = 1.3;
/** Replay of a log where 40 % of lines are events, against readline over the same file. */
const GOAL_DENSE = 3;

interface Reader {
  name: string;
  command: string;
  args: (file: string) => string[];
  /** Reads an empty file: what the command costs before its first line. */
  empty?: boolean;
  /** Reads the dense log (40 % of lines events) instead of the quiet one. */
  dense?: boolean;
  /** Its stdout is read through a pipe, as bpm reads the agent's (else it goes to /dev/null). */
  piped?: boolean;
}

/** A log where 40 % of the lines are events: one restore, then its order polls among status checks. */
export function writeDense(path: string, lines: number): void {
  const fd = openSync(path, 'w');
  try {
    let batch = '';
    for (let i = 0; i < lines; i++) {
      // pollLine(i): the restore's request at 0, then order polls; every hundredth a progress message, here a
      // short one as the backup-agent logs them (the memory scenarios' 4 KB ones would measure JSON output alone).
      const line = i % 100 === 0 && i > 0 ? pollLine(i).replace(/restore step (\d+): .*/, 'restore step $1: downloading part') : pollLine(i);
      batch += `${i === 0 || i % 5 < 2 ? line : line.replace('"POST /v1/order', '"GET /v1/status')}\n`;
      if (batch.length > 4 * 1024 * 1024) {
        writeSync(fd, batch);
        batch = '';
      }
    }
    writeSync(fd, batch);
  } finally {
    closeSync(fd);
  }
}

export const replayThroughput: Scenario = {
  id: 1,
  name: 'replay',
  title: 'Replay throughput',
  goal:
    `replay --json takes at most ${GOAL_RATIO}× the time of a bare node:readline pass over the same file, ` +
    `at most ${GOAL_DENSE}× on a log where 40 % of lines are events, and an empty file at most ${GOAL_STARTUP}× \`node -e 0\``,
  design:
    'Generate a production.log (seeded) and a log where 40 % of lines are events, then in each round run `wc -l FILE`, ' +
    'a node:readline line count, `restore-watcher replay --json FILE` as deployed (job node flags, stdout read through ' +
    'a pipe), `node -e 0`, `--version` and replay of an empty file, and readline and replay over the dense log; ' +
    'report the median wall time, lines/s, the median per-round ratio to its baseline and the peak RSS.',
  async missing() {
    return null;
  },
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const lines = ctx.quick ? 200_000 : DEFAULT_SHAPE.lines;
    const rounds = ctx.rounds ?? (ctx.quick ? 3 : 7);
    const file = join(ctx.workDir, 'replay-production.log');
    ctx.log(`generating ${lines} lines`);
    const story = writeLog(file, { ...DEFAULT_SHAPE, lines });
    const dense = join(ctx.workDir, 'replay-dense.log');
    writeDense(dense, lines);
    // Replay runs with the BOSH job's node flags and its stdout read through a pipe, as the agent is deployed.
    const replay = (...args: string[]): string[] => [...AGENT_NODE_FLAGS, ctx.bin, 'replay', ...args];
    const readers: Reader[] = [
      { name: 'wc -l', command: 'wc', args: (f) => ['-l', f] },
      { name: 'node:readline', command: ctx.node, args: (f) => [READLINE, f] },
      { name: 'replay --json', command: ctx.node, args: (f) => replay('--json', f), piped: true },
      { name: 'node -e 0', command: ctx.node, args: () => ['-e', '0'], empty: true },
      { name: 'restore-watcher --version', command: ctx.node, args: () => [...AGENT_NODE_FLAGS, ctx.bin, '--version'], empty: true, piped: true },
      { name: 'replay --json, empty file', command: ctx.node, args: () => replay('--json', empty), empty: true, piped: true },
      { name: 'node:readline, dense log', command: ctx.node, args: (f) => [READLINE, f], dense: true },
      { name: 'replay --json, dense log', command: ctx.node, args: (f) => replay('--json', f), dense: true, piped: true },
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
        const m = await measure(reader.command, reader.args(reader.dense ? dense : file), {
          workDir: ctx.workDir,
          stdout: reader.piped ? 'capture' : '/dev/null',
        });
        if (m.exitCode !== 0) throw new Error(`${reader.name} exited ${m.exitCode}: ${m.stderr.trim()}`);
        if (round > 0) runs.get(reader.name)!.push(m);
      }
      if (round === 0) continue;
      for (const stage of stageNames) {
        const m = await measure(ctx.node, [STAGES, ctx.root, file, stage], { workDir: ctx.workDir, stdout: 'capture' });
        if (m.exitCode !== 0) throw new Error(`stage ${stage} exited ${m.exitCode}: ${m.stderr.trim()}`);
        stageCpu.get(stage)!.push(Number(m.stdout.trim()));
      }
    }
    const wall = (name: string): number[] => runs.get(name)!.map((m) => m.wallMs);
    const cpu = (name: string): number[] => runs.get(name)!.map((m) => m.cpuMs ?? NaN);
    const baselineName = (name: string): string =>
      name.includes('dense') ? 'node:readline, dense log' : name.includes('empty') || name.includes('version') ? 'node -e 0' : 'node:readline';
    const ratioOf = (values: (name: string) => number[], name: string): number => {
      const base = values(baselineName(name));
      return median(values(name).map((v, i) => v / base[i]!));
    };
    const replayRatio = ratioOf(wall, 'replay --json');
    const startupRatio = ratioOf(wall, 'replay --json, empty file');
    const denseRatio = ratioOf(wall, 'replay --json, dense log');
    const s3 = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : (ms / 1000).toFixed(3));
    const baselineOf = (r: Reader): string =>
      r.name.includes('readline') || r.name.startsWith('wc') || r.name.startsWith('node -e') ? '' : r.dense ? '(readline, dense)' : r.empty ? '(node -e 0)' : '(readline)';
    const rows = readers.map((r) => {
      const ms = median(wall(r.name));
      const rss = Math.max(...runs.get(r.name)!.map((m) => m.peakRssBytes ?? 0));
      return [
        r.name,
        s3(ms),
        s3(Math.min(...wall(r.name))),
        s3(median(cpu(r.name))),
        r.empty ? '–' : Math.round(lines / (ms / 1000)).toLocaleString('en-US'),
        `${ratioOf(wall, r.name).toFixed(2)}× ${baselineOf(r)}`,
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
    const stages = stage('split+parse+track');
    const perLine = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : String(Math.round((ms * 1e6) / lines)));
    const stageRows: string[][] = [
      ['start-up (replay of an empty file)', s3(startup), '–'],
      ['split bytes into lines', s3(split), perLine(split)],
      ['parse lines into records', s3(parse), perLine(parse)],
      ['track records into events', s3(track), perLine(track)],
      ['all three, every line (as the text summary and --explain read)', s3(stages), perLine(stages)],
      ['replay --json, whole process (per line: after start-up)', s3(replayCpu), perLine(replayCpu - startup)],
      ['node:readline, whole process', s3(median(cpu('node:readline'))), '–'],
    ];
    const replayMs = median(wall('replay --json'));
    const replayRss = Math.max(...runs.get('replay --json')!.map((m) => m.peakRssBytes ?? 0));
    return {
      headline:
        `replay --json reads ${lines.toLocaleString('en-US')} lines in ${(replayMs / 1000).toFixed(2)} s ` +
        `(${Math.round(lines / (replayMs / 1000)).toLocaleString('en-US')} lines/s), ` +
        `${replayRatio.toFixed(2)}× a bare node:readline pass (goal ${GOAL_RATIO}×), peak RSS ${mb(replayRss)} MB; ` +
        `an empty file ${startupRatio.toFixed(2)}× \`node -e 0\` (goal ${GOAL_STARTUP}×); ` +
        `a log of 40 % events ${denseRatio.toFixed(2)}× readline over it (goal ${GOAL_DENSE}×)`,
      goalMet: replayRatio <= GOAL_RATIO && startupRatio <= GOAL_STARTUP && denseRatio <= GOAL_DENSE,
      tables: [
        {
          caption:
            `${lines.toLocaleString('en-US')} lines, ${mb(story.bytes)} MB, ${story.restores} restores ` +
            `(${story.failed} failing with a backtrace); median of ${rounds} rounds`,
          header: ['reader', 'median s', 'best s', 'CPU s', 'lines/s', '× baseline', '× baseline, CPU', 'peak RSS MB'],
          rows,
        },
        {
          caption:
            "What each stage costs, in CPU seconds (medians): each runs alone over every line, in a fresh process over " +
            'the file already in memory, timed from its first line to its last. replay --json parses only the lines ' +
            'that can make an event (src/scan/lazy.ts), so it takes less than the three stages together',
          header: ['stage', 'CPU s', 'ns per line'],
          rows: stageRows,
        },
      ],
      notes: [
        `Every round runs the readers back to back on the same file, after one untimed warm-up round; ` +
          `"× readline" is the median of the per-round ratios, so load from other processes cancels out.`,
        `restore-watcher runs as the BOSH job runs the agent: node ${AGENT_NODE_FLAGS.join(' ')}, its stdout ` +
          `read through a pipe by the benchmark (as bpm reads it), not sent to /dev/null. ` +
          `Baselines: readline over the same file; \`node -e 0\` for the empty file and --version.`,
        `Wall time is from spawn to exit, process start-up included; CPU is user plus system time. Peak RSS: ` +
          `${rssSource()}, the largest over the rounds.`,
      ],
    };
  },
};
