/**
 * Scenario 9, serve catch-up against readline: `restore-watcher serve`, run as
 * the BOSH job runs it, starts with an empty state dir on the bench's
 * 1,000,000-line log and on a log where 40 % of lines are events; how long until
 * it has caught up (it logs `restore-watcher listening` once the first read is
 * done), against a bare node:readline pass over the same file in the same round.
 * The same runs with other young-generation sizes say what the job's
 * `--max-semi-space-size` costs and buys.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SHAPE, writeLog } from '../generate.js';
import { cpuTimeMs, mb, measure, median, vmHwm } from '../measure.js';
import { commandMissing } from '../prerequisites.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import { AGENT_NODE_FLAGS, getJson, startServe } from '../live.js';
import { writeDense } from './replay-throughput.js';

const READLINE = fileURLToPath(new URL('../baseline/readline-count.js', import.meta.url));
const GOAL_RATIO = 1.5;
const GOAL_EVENTS_PER_S = 100_000;
/** Young-generation sizes tried beside the job's (MiB per semi-space). */
const SEMI_SPACES = [1, 2, 4, 8, 16];

interface Run {
  ms: number;
  /** CPU time (user + system) until caught up: what load from other processes does not lengthen. */
  cpuMs: number;
  events: number;
  peakRss: number | null;
}

/** Spawn to caught up, as deployed but for `nodeFlags`; the journal's last id and VmHWM read then. */
async function catchUp(ctx: BenchContext, name: string, log: string, nodeFlags: string[]): Promise<Run> {
  const stateDir = join(ctx.workDir, `${name}-state`);
  mkdirSync(stateDir, { recursive: true });
  const serve = await startServe(ctx, name, log, { stateDir, nodeFlags });
  try {
    const at = await serve.logged('restore-watcher listening');
    if (at === null) throw new Error(`serve on ${log} ended before it caught up: ${serve.died()}`);
    const cpuMs = cpuTimeMs(serve.pid) ?? NaN;
    const peakRss = vmHwm(serve.pid);
    const status = await getJson<{ lastEventId: number }>(`${serve.url}/status`, 10_000);
    return { ms: at - serve.startedAt, cpuMs, events: status?.body.lastEventId ?? NaN, peakRss };
  } finally {
    await serve.stop();
    // A fresh state dir each run: every run is a first start.
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const semiFlag = (n: number): string => `--max-semi-space-size=${n}`;
const jobSemi = Number(/--max-semi-space-size=(\d+)/.exec(AGENT_NODE_FLAGS.join(' '))?.[1] ?? NaN);

export const serveCatchUp: Scenario = {
  id: 9,
  name: 'serve-catch-up',
  title: 'Serve catch-up against readline',
  goal:
    `serve, as deployed, catches up on the 1,000,000-line log in at most ${GOAL_RATIO}× a bare node:readline pass, ` +
    `and files at least ${GOAL_EVENTS_PER_S.toLocaleString('en-US')} events/s into the journal on a log where 40 % of lines are events`,
  design:
    'Generate the replay scenario\'s two logs (the seeded 1,000,000-line production.log and the log where 40 % of lines ' +
    'are events). In each round run a node:readline line count over each, then `restore-watcher serve` on each with an ' +
    'empty state dir, its stdout read through a pipe, with the job\'s node flags but for the young generation, once per ' +
    `--max-semi-space-size in ${SEMI_SPACES.join(', ')} MiB, and once on an empty log (start-up). Caught up is when ` +
    "the agent logs `restore-watcher listening` (after its first read); events are /status's lastEventId then, peak " +
    'RSS its VmHWM. Ratios are taken per round against that round\'s readline pass; medians are reported.',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const lines = ctx.quick ? 200_000 : DEFAULT_SHAPE.lines;
    const rounds = ctx.rounds ?? (ctx.quick ? 1 : 3);
    const quiet = join(ctx.workDir, 'serve-catch-up.log');
    const dense = join(ctx.workDir, 'serve-catch-up-dense.log');
    const empty = join(ctx.workDir, 'serve-catch-up-empty.log');
    ctx.log(`generating ${lines.toLocaleString('en-US')} lines, twice`);
    const story = writeLog(quiet, { ...DEFAULT_SHAPE, lines });
    writeDense(dense, lines);
    writeFileSync(empty, '');
    const base = AGENT_NODE_FLAGS.filter((f) => !f.startsWith('--max-semi-space-size'));
    const readline = { quiet: [] as number[], dense: [] as number[], quietCpu: [] as number[], denseCpu: [] as number[] };
    const runs = new Map<string, Run[]>();
    const note = (key: string, run: Run): void => void runs.set(key, [...(runs.get(key) ?? []), run]);
    const reads = async (file: string): Promise<[number, number]> => {
      const m = await measure(ctx.node, [READLINE, file], { workDir: ctx.workDir });
      if (m.exitCode !== 0) throw new Error(`readline exited ${m.exitCode}: ${m.stderr.trim()}`);
      return [m.wallMs, m.cpuMs ?? NaN];
    };
    // One untimed round first: both files are then in the page cache for every reader alike.
    for (const round of [0, ...Array.from({ length: rounds }, (_, i) => i + 1)]) {
      ctx.log(round === 0 ? 'warm-up round' : `round ${round} of ${rounds}`);
      const rq = await reads(quiet);
      const rd = await reads(dense);
      const start = await catchUp(ctx, 'serve-empty', empty, AGENT_NODE_FLAGS);
      const measured: [string, Run][] = [['empty', start]];
      for (const semi of round === 0 ? [jobSemi] : SEMI_SPACES) {
        const flags = [...base, semiFlag(semi)];
        measured.push([`quiet ${semi}`, await catchUp(ctx, `serve-quiet-${semi}`, quiet, flags)]);
        measured.push([`dense ${semi}`, await catchUp(ctx, `serve-dense-${semi}`, dense, flags)]);
      }
      if (round === 0) continue;
      readline.quiet.push(rq[0]);
      readline.dense.push(rd[0]);
      readline.quietCpu.push(rq[1]);
      readline.denseCpu.push(rd[1]);
      for (const [key, run] of measured) note(key, run);
    }
    const of = (key: string): Run[] => runs.get(key)!;
    const ratio = (key: string, baseline: number[]): number => median(of(key).map((r, i) => r.ms / baseline[i]!));
    const cpuRatio = (key: string, baseline: number[]): number => median(of(key).map((r, i) => r.cpuMs / baseline[i]!));
    const perSecond = (key: string): number => median(of(key).map((r) => r.events / (r.ms / 1000)));
    const perCpuSecond = (key: string): number => median(of(key).map((r) => r.events / (r.cpuMs / 1000)));
    const peak = (key: string): string => mb(Math.max(...of(key).map((r) => r.peakRss ?? 0)));
    const s2 = (ms: number): string => (ms / 1000).toFixed(2);
    const quietRatio = ratio(`quiet ${jobSemi}`, readline.quiet);
    const denseRate = perSecond(`dense ${jobSemi}`);
    const denseEvents = of(`dense ${jobSemi}`)[0]!.events;
    const rows = SEMI_SPACES.map((semi) => [
      `${semi}${semi === jobSemi ? ' (the job)' : ''}`,
      s2(median(of(`quiet ${semi}`).map((r) => r.ms))),
      `${ratio(`quiet ${semi}`, readline.quiet).toFixed(2)}×`,
      `${cpuRatio(`quiet ${semi}`, readline.quietCpu).toFixed(2)}×`,
      peak(`quiet ${semi}`),
      s2(median(of(`dense ${semi}`).map((r) => r.ms))),
      Math.round(perSecond(`dense ${semi}`)).toLocaleString('en-US'),
      Math.round(perCpuSecond(`dense ${semi}`)).toLocaleString('en-US'),
      `${ratio(`dense ${semi}`, readline.dense).toFixed(2)}×`,
      peak(`dense ${semi}`),
    ]);
    return {
      headline:
        `serve as deployed caught up on ${lines.toLocaleString('en-US')} lines in ${s2(median(of(`quiet ${jobSemi}`).map((r) => r.ms)))} s, ` +
        `${quietRatio.toFixed(2)}× a bare readline pass (goal ${GOAL_RATIO}×; CPU ${cpuRatio(`quiet ${jobSemi}`, readline.quietCpu).toFixed(2)}×; ` +
        `start-up alone ${ratio('empty', readline.quiet).toFixed(2)}×); ` +
        `on a log of 40 % events it filed ${Math.round(denseRate).toLocaleString('en-US')} events/s ` +
        `(goal ${GOAL_EVENTS_PER_S.toLocaleString('en-US')})`,
      goalMet: quietRatio <= GOAL_RATIO && denseRate >= GOAL_EVENTS_PER_S,
      tables: [
        {
          caption:
            `${lines.toLocaleString('en-US')} lines, ${mb(story.bytes)} MB, ${story.restores} restores; the dense log ` +
            `${denseEvents.toLocaleString('en-US')} events; node ${base.join(' ')} and the young generation below; ` +
            `median of ${rounds} rounds; readline ${s2(median(readline.quiet))} s and ${s2(median(readline.dense))} s (dense)`,
          header: [
            '--max-semi-space-size (MiB)',
            'caught up, s',
            '× readline',
            '× readline, CPU',
            'peak RSS MB',
            'dense: caught up, s',
            'events/s',
            'events per CPU s',
            '× readline',
            'peak RSS MB',
          ],
          rows,
        },
        {
          caption: 'Start-up: serve on an empty log, as deployed, spawn to listening',
          header: ['measure', 'value'],
          rows: [
            ['median s', s2(median(of('empty').map((r) => r.ms)))],
            ['CPU s', s2(median(of('empty').map((r) => r.cpuMs)))],
            [`× readline over the ${lines.toLocaleString('en-US')}-line log`, `${ratio('empty', readline.quiet).toFixed(2)}×`],
            ['peak RSS MB', peak('empty')],
          ],
        },
      ],
      notes: [
        `The agent runs as the BOSH job runs it (node ${AGENT_NODE_FLAGS.join(' ')}), its stdout read through a pipe as ` +
          'bpm reads it; the other rows change only the young generation. Times are from spawn, start-up included.',
        'events/s is the journal\'s last event id at the moment the agent says it caught up, divided by the time from spawn; ' +
          'events per CPU s divides it by the CPU time the agent used until then instead (/proc/PID/stat), which load ' +
          'from other processes on the machine lengthens least; it counts V8\'s helper threads (parallel scavenges) and ' +
          'the thread pool\'s reads too, so it can exceed the wall time. readline\'s CPU time is from GNU time.',
      ],
    };
  },
};
