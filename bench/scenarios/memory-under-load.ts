/**
 * Scenario 3, memory under load: resident memory of the agent while a log grows
 * at 10,000 lines/s with 100 stream clients, one of which never reads. The lines
 * are the generator's realistic mix (a restore every 20,000 lines, so a restore
 * every two seconds, each a few dozen events).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SHAPE, generateLines } from '../generate.js';
import { mb, vmHwm, vmRss } from '../measure.js';
import { commandMissing } from '../prerequisites.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import { Arrivals, getJson, neverReadingClient, sleep, startServe, StreamClient, waitFor } from '../live.js';

const GOAL_MB = 80;
const RATE = 10_000;
const BATCH_MS = 10;

export const memoryUnderLoad: Scenario = {
  id: 3,
  name: 'memory',
  title: 'Memory under load',
  goal: `RSS stays flat and under ${GOAL_MB} MB at 10,000 lines/s for 60 s with 100 stream clients, one never reading`,
  design:
    'Start `restore-watcher serve` on 127.0.0.1 (free port). Connect 99 clients that read the event stream and ' +
    'one that connects and never reads. Append generated lines at 10,000 lines/s for 60 s (--quick: 10 s), a ' +
    'batch every 10 ms. Sample the agent\'s VmRSS every 500 ms: RSS at start, peak, end, growth over the second ' +
    'half, whether the silent client was dropped, and events delivered to the reading clients.',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const seconds = ctx.quick ? 10 : 60;
    const log = join(ctx.workDir, 'memory-production.log');
    writeFileSync(log, '');
    const serve = await startServe(ctx, 'memory', log, { http: { maxStreamClients: 128 } });
    const samples: Array<{ t: number; rss: number }> = [];
    let written = 0;
    let delivered: number[] = [];
    let silentDroppedAt: number | null = null;
    let events = 0;
    let startRss = 0;
    let peak = 0;
    try {
      if (!(await waitFor(async () => (await getJson(`${serve.url}/healthz`))?.status === 200, 30_000, 50))) {
        throw new Error('serve did not answer /healthz within 30 s');
      }
      const readers = Array.from({ length: 99 }, () => new StreamClient(serve.url, new Arrivals(-1)));
      const silent = neverReadingClient(serve.url);
      try {
        if (!(await waitFor(() => readers.every((r) => r.connected), 10_000))) throw new Error('stream clients did not connect');
        await sleep(500);
        startRss = vmRss(serve.pid) ?? 0;
        const lines = generateLines({ ...DEFAULT_SHAPE, lines: RATE * seconds });
        const perBatch = (RATE * BATCH_MS) / 1000;
        const started = performance.now();
        let nextSample = started;
        ctx.log(`${RATE} lines/s for ${seconds} s`);
        while (written < RATE * seconds) {
          // Catch up to the schedule: the rate holds even when a batch is late.
          const due = Math.min(RATE * seconds, Math.floor(((performance.now() - started) / 1000) * RATE) + perBatch);
          let batch = '';
          while (written < due) {
            const next = lines.next();
            if (next.done) break;
            batch += `${next.value}\n`;
            written++;
          }
          if (batch !== '') appendFileSync(log, batch);
          const now = performance.now();
          if (now >= nextSample) {
            samples.push({ t: (now - started) / 1000, rss: vmRss(serve.pid) ?? 0 });
            nextSample += 500;
          }
          if (silentDroppedAt === null && silent.closed()) silentDroppedAt = (now - started) / 1000;
          await sleep(BATCH_MS);
        }
        await sleep(2000);
        samples.push({ t: (performance.now() - started) / 1000, rss: vmRss(serve.pid) ?? 0 });
        if (silentDroppedAt === null && silent.closed()) silentDroppedAt = (performance.now() - started) / 1000;
        peak = vmHwm(serve.pid) ?? 0;
        events = (await getJson<{ lastEventId: number }>(`${serve.url}/status`))?.body.lastEventId ?? 0;
        delivered = readers.map((r) => r.bytes);
      } finally {
        for (const r of readers) r.close();
        silent.socket.destroy();
      }
    } finally {
      await serve.stop();
    }
    const end = samples.at(-1)!.rss;
    const half = samples.filter((s) => s.t >= seconds / 2);
    const growth = half.length > 1 ? half.at(-1)!.rss - half[0]!.rss : 0;
    const flat = growth < 5 * 1024 * 1024;
    return {
      headline:
        `RSS ${mb(startRss)} MB at start, ${mb(peak)} MB peak, ${mb(end)} MB at the end of ${seconds} s at ` +
        `${RATE.toLocaleString('en-US')} lines/s (${growth >= 0 ? '+' : ''}${mb(growth)} MB over the second half)`,
      goalMet: peak < GOAL_MB * 1024 * 1024 && flat,
      tables: [
        {
          caption: `${written.toLocaleString('en-US')} lines written in ${seconds} s, ${events} events, 99 reading clients and one that never reads`,
          header: ['measure', 'value'],
          rows: [
            ['RSS at start (MB)', mb(startRss)],
            ['peak RSS, VmHWM (MB)', mb(peak)],
            ['RSS at the end (MB)', mb(end)],
            ['growth over the second half (MB)', mb(growth)],
            ['silent client dropped after (s)', silentDroppedAt === null ? 'not dropped' : silentDroppedAt.toFixed(1)],
            ['bytes delivered per reading client (MB, min)', mb(Math.min(...delivered))],
          ],
        },
        {
          caption: 'RSS over time',
          header: ['s', 'RSS MB'],
          rows: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0).map((s) => [s.t.toFixed(1), mb(s.rss)]),
        },
      ],
      notes: [
        '"Flat" is read as less than 5 MB growth over the second half of the run.',
        'The silent client asks for the stream over a raw socket and never reads; the kernel\'s socket buffers ' +
          'take the first few hundred KB before the agent sees any backlog.',
      ],
    };
  },
};
