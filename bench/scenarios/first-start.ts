/**
 * Scenario 7, first start on a log of a million events: the agent, as deployed,
 * starts with an empty state directory on a log where nearly every line is an
 * event. It must read to the end, checkpoint along the way (a crash during a
 * long first read must not start it over) and stay within its memory.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mb, vmHwm } from '../measure.js';
import { commandMissing } from '../prerequisites.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import { getJson, startServe, waitFor } from '../live.js';
import { RssSampler, writePolls } from '../polls.js';

const GOAL_MB = 200;

interface Status {
  lastEventId: number;
  follower: { offset: number; caughtUp?: boolean };
}

export const firstStart: Scenario = {
  id: 7,
  name: 'first-start',
  title: 'First start on a log of a million events',
  goal: `catches up, checkpointing along the way, never above ${GOAL_MB} MB`,
  design:
    'Write a log of 1,000,000 lines (--quick: 200,000), one restore whose every line after the request is an ' +
    'event. Start `restore-watcher serve` as deployed (job node flags, stdout through a pipe) with an empty state ' +
    'dir; poll GET /status every 200 ms and the checkpoint file\'s modification time, until the reported offset is ' +
    'the file size. Report the time to catch up, checkpoints written before it, and peak RSS (VmHWM).',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const lines = ctx.quick ? 200_000 : 1_000_000;
    const log = join(ctx.workDir, 'first-start-production.log');
    writeFileSync(log, '');
    ctx.log(`writing ${lines.toLocaleString('en-US')} lines`);
    writePolls(log, 0, lines);
    const size = statSync(log).size;
    const serve = await startServe(ctx, 'first-start', log);
    const sampler = new RssSampler(serve.pid, 200);
    const checkpoint = join(serve.stateDir, 'checkpoint.json');
    const checkpointTimes = new Set<number>();
    let caughtUpMs: number | null = null;
    let events = 0;
    let peak = 0;
    /** How the agent ended, if it did before being stopped. */
    let died: string | null = null;
    try {
      await waitFor(
        async () => {
          try {
            checkpointTimes.add(statSync(checkpoint).mtimeMs);
          } catch {
            // Not written yet.
          }
          if (serve.died() !== null) return true;
          const r = await getJson<Status>(`${serve.url}/status`, 5000);
          if (r === null || r.body.follower.offset < size) return false;
          caughtUpMs = performance.now() - serve.startedAt;
          events = r.body.lastEventId;
          return true;
        },
        15 * 60_000,
        200,
      );
      peak = vmHwm(serve.pid) ?? 0;
    } finally {
      sampler.stop();
      died = serve.died();
      await serve.stop();
    }
    if (died !== null) {
      throw new Error(`the agent died after ${(sampler.samples.at(-1)?.t ?? 0).toFixed(0)} s (${died}), ` +
        `${mb(Math.max(0, ...sampler.samples.map((x) => x.rss)))} MB RSS at its last sample, ${checkpointTimes.size} checkpoint writes seen`);
    }
    if (caughtUpMs === null) throw new Error('serve did not reach the end of the log within 15 minutes');
    const caughtUp: number = caughtUpMs;
    // The first checkpoint is written before reading starts; the last one when reading ends.
    const along = Math.max(0, checkpointTimes.size - 1);
    return {
      headline:
        `${lines.toLocaleString('en-US')} lines (${events.toLocaleString('en-US')} events) read in ${(caughtUp / 1000).toFixed(1)} s, ` +
        `${along} checkpoints seen along the way, peak RSS ${mb(peak)} MB`,
      // The follower pauses, and the agent checkpoints, every 16 MiB of a first read.
      goalMet: peak < GOAL_MB * 1024 * 1024 && along >= Math.floor(size / (16 * 1024 * 1024)) && events >= lines - 1,
      tables: [
        {
          caption: `${(size / 1e6).toFixed(0)} MB log, empty state dir`,
          header: ['measure', 'value'],
          rows: [
            ['time to catch up (s)', (caughtUp / 1000).toFixed(1)],
            ['events', events.toLocaleString('en-US')],
            ['checkpoint writes seen while reading (polled every 200 ms)', String(along)],
            ['pauses expected in the first read (one per 16 MiB)', String(Math.floor(size / (16 * 1024 * 1024)))],
            ['peak RSS, VmHWM (MB)', mb(peak)],
            ["agent's own log read from stdout (kB)", (serve.stdoutBytes() / 1024).toFixed(1)],
          ],
        },
        { caption: 'RSS over time', header: ['s', 'RSS MB'], rows: sampler.rows(mb) },
      ],
      notes: ['Checkpoint writes are counted as distinct modification times of checkpoint.json seen by the poll: a lower bound.'],
    };
  },
};
