/**
 * Scenario 6, sustained load as deployed: 5,000 lines/s for 10 minutes, nearly
 * every line an event, with 20 stream clients and one that never reads. The agent
 * runs with the job's node flags and its stdout read through a pipe, so the
 * journal fills to its bound in 20 s and is compacted for the rest of the run,
 * and the agent's own log output is what bpm would get.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mb, vmHwm } from '../measure.js';
import { commandMissing } from '../prerequisites.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import { AGENT_NODE_FLAGS, getJson, neverReadingClient, sleep, startServe, waitFor } from '../live.js';
import { CountingStream, metric, pollLine, RssSampler } from '../polls.js';

const GOAL_MB = 120;
const RATE = 5000;
const BATCH_MS = 10;
const READERS = 20;

interface Status {
  lastEventId: number;
  journal: { events: number; dropped: number };
  counters?: { persistence?: { checkpoints?: number; journalCompactions?: number } };
}

export const sustainedLoad: Scenario = {
  id: 6,
  name: 'sustained',
  title: 'Sustained load as deployed',
  goal: `RSS flat and under ${GOAL_MB} MB at 5,000 event lines/s for 10 minutes with 20 stream clients and one never reading`,
  design:
    `Start \`restore-watcher serve\` as the BOSH job runs it (${AGENT_NODE_FLAGS.join(' ')}, ` +
    'stdout read through a pipe) on 127.0.0.1. Connect 20 clients that read the event stream and one that never ' +
    'reads. Append 5,000 lines/s for 600 s (--quick: 60 s), a batch every 10 ms: one restore whose every line is ' +
    'an event (order polls; every 100th a 4 KB progress message, every 10,000th a 60 KB one). Sample VmRSS every ' +
    '500 ms; report start, peak (VmHWM), end, growth over the second half, events, journal compactions, the ' +
    "agent's own log bytes read from stdout, and what the clients got.",
  missing: (ctx) => commandMissing(ctx, 'serve'),
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const seconds = ctx.quick ? 60 : 600;
    const total = RATE * seconds;
    const log = join(ctx.workDir, 'sustained-production.log');
    writeFileSync(log, '');
    const serve = await startServe(ctx, 'sustained', log);
    let sampler: RssSampler | null = null;
    let written = 0;
    let startRss = 0;
    let peak = 0;
    let status: Status | null = null;
    let droppedSlow: number | null = null;
    let heapUsed: number | null = null;
    let readers: CountingStream[] = [];
    let readersBehind = 0;
    /** How the agent ended, if it did before being stopped. */
    let died: string | null = null;
    try {
      if (!(await waitFor(async () => (await getJson(`${serve.url}/healthz`))?.status === 200, 30_000, 50))) {
        throw new Error('serve did not answer /healthz within 30 s');
      }
      readers = Array.from({ length: READERS }, () => new CountingStream(serve.url, null));
      const silent = neverReadingClient(serve.url);
      try {
        if (!(await waitFor(() => readers.every((r) => r.status === 200), 10_000))) throw new Error('stream clients did not connect');
        sampler = new RssSampler(serve.pid);
        await sleep(500);
        startRss = sampler.samples.at(-1)?.rss ?? 0;
        ctx.log(`${RATE} lines/s for ${seconds} s`);
        const started = performance.now();
        let lastReport = started;
        while (written < total) {
          const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE) + (RATE * BATCH_MS) / 1000);
          let batch = '';
          while (written < due) batch += `${pollLine(written++)}\n`;
          if (batch !== '') appendFileSync(log, batch);
          if (performance.now() - lastReport > 30_000) {
            lastReport = performance.now();
            ctx.log(`${Math.round((lastReport - started) / 1000)} s: RSS ${mb(sampler.samples.at(-1)?.rss ?? 0)} MB`);
          }
          if (serve.died() !== null) break;
          await sleep(BATCH_MS);
        }
        await waitFor(async () => {
          status = (await getJson<Status>(`${serve.url}/status`, 5000))?.body ?? null;
          return (status !== null && status.lastEventId >= total) || serve.died() !== null;
        }, 60_000, 500);
        await sleep(2000);
        peak = vmHwm(serve.pid) ?? 0;
        status = (await getJson<Status>(`${serve.url}/status`, 5000))?.body ?? status;
        // A client that never reads does not see the server close its socket either: ask the agent.
        droppedSlow = await metric(serve.url, 'restore_watcher_stream_clients_dropped_total{reason="slow"}');
        heapUsed = await metric(serve.url, 'restore_watcher_nodejs_heap_size_used_bytes');
        const last = status?.lastEventId ?? 0;
        readersBehind = readers.filter((r) => r.lastId < last).length;
      } finally {
        for (const r of readers) r.close();
        silent.socket.destroy();
      }
    } finally {
      sampler?.stop();
      died = serve.died();
      await serve.stop();
    }
    const samples = sampler?.samples ?? [];
    const end = samples.at(-1)?.rss ?? 0;
    const growth = sampler?.growthSince(seconds / 2) ?? 0;
    const flat = growth < 5 * 1024 * 1024;
    const s = status as Status | null;
    if (died !== null) {
      return {
        headline: `the agent died after ${(samples.at(-1)?.t ?? 0).toFixed(0)} s (${died}), ${mb(Math.max(0, ...samples.map((x) => x.rss)))} MB RSS at its last sample`,
        goalMet: false,
        tables: [{ caption: 'RSS over time', header: ['s', 'RSS MB'], rows: sampler?.rows(mb) ?? [] }],
        notes: [`${written.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} lines written before it died.`],
      };
    }
    return {
      headline:
        `RSS ${mb(startRss)} MB at start, ${mb(peak)} MB peak, ${mb(end)} MB at the end of ${seconds} s at ` +
        `5,000 event lines/s (${growth >= 0 ? '+' : ''}${mb(growth)} MB over the second half)`,
      goalMet: peak < GOAL_MB * 1024 * 1024 && flat,
      tables: [
        {
          caption: `${written.toLocaleString('en-US')} lines in ${seconds} s; ${READERS} reading clients and one that never reads`,
          header: ['measure', 'value'],
          rows: [
            ['RSS at start (MB)', mb(startRss)],
            ['peak RSS, VmHWM (MB)', mb(peak)],
            ['RSS at the end (MB)', mb(end)],
            ['growth over the second half (MB)', mb(growth)],
            ['events', String(s?.lastEventId ?? 'n/a')],
            ['journal: events held / dropped', s ? `${s.journal.events} / ${s.journal.dropped}` : 'n/a'],
            ['journal compactions', String(s?.counters?.persistence?.journalCompactions ?? 'n/a')],
            ["agent's own log read from stdout (kB)", (serve.stdoutBytes() / 1024).toFixed(1)],
            ['reading clients behind the last event at the end (dropped as slow, or still reading)', String(readersBehind)],
            ['bytes per reading client (MB, min)', mb(Math.min(...readers.map((r) => r.bytes)))],
            ['stream clients dropped as slow (the silent one)', String(droppedSlow ?? 'n/a')],
            ['V8 heap used at the end (MB)', mb(heapUsed)],
          ],
        },
        { caption: 'RSS over time', header: ['s', 'RSS MB'], rows: sampler?.rows(mb) ?? [] },
      ],
      notes: [
        '"Flat" is read as less than 5 MB growth over the second half of the run.',
        'The machine may be shared: figures taken while other work runs are noisier, not lower.',
        'The 20 readers share this one benchmark process, each taking about 6 MB/s; when the process falls behind, ' +
          'the agent drops a reader once its unsent bytes pass http.maxStreamBufferBytes, as it should, and the ' +
          'table counts it.',
      ],
    };
  },
};
