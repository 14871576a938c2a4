/**
 * Scenario 8, everyone resumes from the start: 32 stream clients ask for
 * `?after=0` at once on a journal of 100,000 events, while four clients fetch the
 * restore's whole history from `/restores/:id`. Each must be served in full, and
 * what that costs the agent must not grow with the journal.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mb, vmHwm } from '../measure.js';
import { commandMissing } from '../prerequisites.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import { getJson, startServe, waitFor } from '../live.js';
import { countAnswer, CountingStream, RssSampler, writePolls } from '../polls.js';

/** The bound the agent is held to on first start (scenario 7): serving everyone at once must not need more. */
const GOAL_MB = 200;
const CLIENTS = 32;
const HISTORIES = 4;
const EVENTS = 100_000;

interface Status {
  lastEventId: number;
  follower: { caughtUp?: boolean; offset: number };
  restore: { id: string } | null;
}

export const resumeFlood: Scenario = {
  id: 8,
  name: 'resume',
  title: '32 clients resume from the start of a 100,000-event journal',
  goal: `every client gets all ${EVENTS.toLocaleString('en-US')} events; RSS stays under ${GOAL_MB} MB`,
  design:
    'Write a log of 100,001 lines (a restore request, then 100,000 event lines), start `restore-watcher serve` ' +
    'as deployed (job node flags, stdout through a pipe; journal.maxEvents 100,000 plus one) and wait until it has read it. Then open ' +
    '32 streams with ?after=0 and 4 GET /restores/:id at once, each reading as fast as it can; report the time ' +
    'until all have everything, RSS before and peak (VmHWM) during.',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const log = join(ctx.workDir, 'resume-production.log');
    writeFileSync(log, '');
    writePolls(log, 0, EVENTS + 1);
    const serve = await startServe(ctx, 'resume', log, { journal: { maxEvents: EVENTS + 1 } });
    let sampler: RssSampler | null = null;
    let before = 0;
    let peak = 0;
    let servedMs: number | null = null;
    let streams: CountingStream[] = [];
    let histories: Array<{ status: number; bytes: number }> = [];
    let last = 0;
    /** How the agent ended, if it did before being stopped. */
    let died: string | null = null;
    try {
      const ready = await waitFor(
        async () => {
          if (serve.died() !== null) throw new Error(`the agent died while reading the log (${serve.died()})`);
          const r = await getJson<Status>(`${serve.url}/status`, 5000);
          last = r?.body.lastEventId ?? 0;
          return r !== null && r.body.follower.caughtUp !== false && last >= EVENTS + 1;
        },
        10 * 60_000,
        200,
      );
      if (!ready) throw new Error(`serve did not journal ${EVENTS} events within 10 minutes (got ${last})`);
      const status = (await getJson<Status>(`${serve.url}/status`, 5000))!.body;
      sampler = new RssSampler(serve.pid, 100);
      await waitFor(() => sampler!.samples.length > 0, 5000);
      before = sampler.samples[0]!.rss;
      ctx.log(`${CLIENTS} streams from after=0 and ${HISTORIES} histories of ${status.restore?.id}`);
      // All ask before any reads: this one process reading 32 catch-ups must not delay the others' requests
      // past the agent's 10 s header timeout.
      const answers = Promise.all(Array.from({ length: HISTORIES }, () => countAnswer(`${serve.url}/restores/${status.restore?.id}`)));
      streams = Array.from({ length: CLIENTS }, () => new CountingStream(serve.url, 0, true));
      await waitFor(() => streams.every((s) => s.status !== 0 || s.ended), 30_000);
      const started = performance.now();
      for (const s of streams) s.resume();
      const allStreamed = await waitFor(() => streams.every((s) => s.lastId >= last || s.ended) || serve.died() !== null, 10 * 60_000, 50);
      histories = await answers;
      servedMs = allStreamed && streams.every((s) => s.lastId >= last) ? performance.now() - started : null;
      peak = vmHwm(serve.pid) ?? 0;
    } finally {
      sampler?.stop();
      for (const s of streams) s.close();
      died = serve.died();
      await serve.stop();
    }
    const streamed = streams.filter((s) => s.lastId >= last).length;
    const historiesOk = histories.filter((h) => h.status === 200).length;
    const samplePeak = Math.max(0, ...(sampler?.samples ?? []).map((s) => s.rss));
    return {
      headline:
        `${streamed} of ${CLIENTS} streams from after=0 and ${historiesOk} of ${HISTORIES} histories served in full` +
        `${servedMs === null ? '' : ` in ${(servedMs / 1000).toFixed(1)} s`}; RSS ${mb(before)} MB before, ${mb(samplePeak)} MB peak during` +
        `${died === null ? '' : `; the agent died (${died})`}`,
      goalMet: died === null && streamed === CLIENTS && historiesOk === HISTORIES && samplePeak < GOAL_MB * 1024 * 1024,
      tables: [
        {
          caption: `${last.toLocaleString('en-US')} events in the journal`,
          header: ['measure', 'value'],
          rows: [
            ['streams that got every event', `${streamed} of ${CLIENTS}`],
            [
              'streams that did not (status, last id, error)',
              streams
                .filter((s) => s.lastId < last)
                .map((s) => `${s.status} ${s.lastId} ${s.error ?? ''}`.trim())
                .join('; ') || 'none',
            ],
            ['bytes per stream (MB, min)', mb(Math.min(...streams.map((s) => s.bytes)))],
            ['/restores/:id answers (200) and size (MB)', `${historiesOk} of ${HISTORIES}, ${mb(Math.min(...histories.map((h) => h.bytes)))}`],
            ['time until all served (s)', servedMs === null ? 'not all served' : (servedMs / 1000).toFixed(1)],
            ['RSS before (MB)', mb(before)],
            ['peak RSS while serving, sampled every 100 ms (MB)', mb(samplePeak)],
            ['peak RSS of the whole run incl. reading the log, VmHWM (MB)', mb(peak)],
          ],
        },
        { caption: 'RSS while serving', header: ['s', 'RSS MB'], rows: sampler?.rows(mb) ?? [] },
      ],
      notes: ['Every client reads from its own connection as fast as this machine lets it; all run in the benchmark process.'],
    };
  },
};
