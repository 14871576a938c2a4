/**
 * Scenario 5, catch-up: the agent starts on a large existing log with an empty
 * state dir. How soon does it answer /status, and how long until it has read to
 * the end? `replay --json` over the same file is the reference for reading speed.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SHAPE, writeLog } from '../generate.js';
import { mb, measure, vmHwm } from '../measure.js';
import { commandMissing } from '../prerequisites.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import { getJson, startServe, waitFor } from '../live.js';

interface Status {
  follower: { offset: number };
  lastEventId: number;
}

export const catchUp: Scenario = {
  id: 5,
  name: 'catch-up',
  title: 'Catch-up on a 1 GB log',
  goal: 'the first /status answer does not wait for the whole file',
  design:
    'Generate a 1 GB production.log (about 9.4 million lines; --quick: 100 MB), start `restore-watcher serve` ' +
    'on it with an empty state dir on 127.0.0.1 (free port), and poll GET /status every 10 ms. Report the time ' +
    'to the first answer, the time until the reported offset reaches the file size, peak RSS, and the ' +
    '`replay --json` time for the same file.',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const lines = ctx.quick ? 940_000 : 9_400_000;
    const log = join(ctx.workDir, 'catch-up-production.log');
    ctx.log(`generating ${lines.toLocaleString('en-US')} lines`);
    const story = writeLog(log, { ...DEFAULT_SHAPE, lines });
    const size = statSync(log).size;
    const deadlineMs = 15 * 60_000;
    ctx.log('serve: waiting for /status, then for the end of the file');
    const serve = await startServe(ctx, 'catch-up', log);
    let firstAnswer: number | null = null;
    let firstOffset = 0;
    let caughtUp: number | null = null;
    let peak = 0;
    let events = 0;
    try {
      await waitFor(async () => {
        peak = Math.max(peak, vmHwm(serve.pid) ?? 0);
        const r = await getJson<Status>(`${serve.url}/status`, 1000);
        if (r === null || r.status !== 200) return false;
        firstAnswer = performance.now() - serve.startedAt;
        firstOffset = r.body.follower.offset;
        return true;
      }, deadlineMs);
      if (firstAnswer === null) throw new Error('serve never answered /status');
      await waitFor(async () => {
        peak = Math.max(peak, vmHwm(serve.pid) ?? 0);
        const r = await getJson<Status>(`${serve.url}/status`, 5000);
        if (r === null || r.body.follower.offset < size) return false;
        caughtUp = performance.now() - serve.startedAt;
        events = r.body.lastEventId;
        return true;
      }, deadlineMs);
      peak = Math.max(peak, vmHwm(serve.pid) ?? 0);
    } finally {
      await serve.stop();
    }
    if (caughtUp === null) throw new Error('serve did not reach the end of the file in time');
    ctx.log('replay --json over the same file');
    const replay = await measure(ctx.node, [ctx.bin, 'replay', '--json', log], { workDir: ctx.workDir, timeoutMs: deadlineMs });
    const s = (ms: number): string => (ms / 1000).toFixed(2);
    const first: number = firstAnswer;
    const caught: number = caughtUp;
    const waited = firstOffset >= size;
    return {
      headline:
        `on a ${mb(size)} MB log the first /status answer came after ${s(first)} s ` +
        `(${waited ? 'only once the whole file was read' : `at offset ${mb(firstOffset)} MB`}), caught up after ${s(caught)} s, ` +
        `${Math.round(lines / (caught / 1000)).toLocaleString('en-US')} lines/s, peak RSS ${mb(peak)} MB`,
      goalMet: !waited,
      tables: [
        {
          caption: `${lines.toLocaleString('en-US')} lines, ${mb(size)} MB, ${story.restores} restores; times from spawning the process`,
          header: ['measure', 'value'],
          rows: [
            ['first /status answer (s)', s(first)],
            ['offset at the first answer (MB)', mb(firstOffset)],
            ['caught up: offset = file size (s)', s(caught)],
            ['events in the journal', String(events)],
            ['serve peak RSS (MB)', mb(peak)],
            ['replay --json, same file (s)', s(replay.wallMs)],
            ['replay --json peak RSS (MB)', mb(replay.peakRssBytes)],
          ],
        },
      ],
      notes: ['/status is polled every 10 ms with a 1 s timeout per request; peak RSS is VmHWM read while polling.'],
    };
  },
};
