/**
 * Scenario 2, live latency: how long an appended line takes to reach clients of
 * the event stream, against `tail -F` on the same file as the reference. The log
 * holds an accepted restore request, so every appended `POST /v1/order` line is
 * one progress event. Lines are written one per write, a few ms apart; every
 * reader notes when each line's marker arrives, on the same clock as the writes.
 *
 * There are as many `tail -F` readers as stream clients: what the agent replaces
 * is one `tail -f` per operator. The benchmark process then reads as many pipes
 * from `tail -F` as sockets from the agent, in turn, and that reading weighs on
 * both sides alike. Against a single `tail -F`, the ratio with 100 clients
 * measured mostly how long this process takes to read 100 sockets.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { median, percentile } from '../measure.js';
import { commandMissing } from '../prerequisites.js';
import type { BenchContext, Scenario, ScenarioResult } from '../scenario.js';
import {
  Arrivals,
  getJson,
  marker,
  markedOrderLine,
  restoreRequestLine,
  sleep,
  startServe,
  StreamClient,
  tailF,
  waitFor,
} from '../live.js';

/** The stream's p99 against tail -F's p99 in the same run. */
const GOAL_P99_RATIO = 2;
const CLIENT_COUNTS = [1, 10, 100];
const WARM_UP = 0;

interface Phase {
  clients: number;
  stream: number[];
  tail: number[];
  streamLost: number;
  tailLost: number;
  repeats: number;
}

export const liveLatency: Scenario = {
  id: 2,
  name: 'latency',
  title: 'Live latency',
  goal: `p99 append → stream delivery with 100 stream clients ≤ ${GOAL_P99_RATIO}× the p99 of 100 tail -F readers in the same run`,
  design:
    'Start `restore-watcher serve` on 127.0.0.1 (free port, fresh state dir). For each client count, append an ' +
    'accepted `POST /v1/restore`, so every appended `POST /v1/order` line becomes one progress event. Connect ' +
    '1, 10, then 100 clients to GET /events/stream and as many `tail -F` children on the same file (one per ' +
    'operator, as today). Append 1,000 lines one write each, 5 ms apart, noting the time of each write; each ' +
    'reader notes when the line arrives. Report p50/p99/max per client count for the stream and for tail -F, ' +
    'and lines lost.',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const lines = ctx.quick ? 200 : 1000;
    const gapMs = 5;
    const log = join(ctx.workDir, 'latency-production.log');
    writeFileSync(log, '');
    const serve = await startServe(ctx, 'latency', log, { http: { maxStreamClients: 128 } });
    const fd = openSync(log, 'a');
    const phases: Phase[] = [];
    try {
      if (!(await waitFor(async () => (await getJson(`${serve.url}/healthz`))?.status === 200, 30_000, 50))) {
        throw new Error('serve did not answer /healthz within 30 s');
      }
      for (const [index, clients] of CLIENT_COUNTS.entries()) {
        const phase = index + 1;
        ctx.log(`${clients} stream client(s), ${lines} lines`);
        // A new restore for each phase: a client that connects is first sent the latest
        // restore's story so far, and that must stay short for the clients to be admitted.
        const stamp = `20/Nov/2018:12:0${phase}:00 +0000`;
        writeSync(fd, restoreRequestLine(stamp));
        const streamArrivals = Array.from({ length: clients }, () => new Arrivals(phase));
        const streams = streamArrivals.map((a) => new StreamClient(serve.url, a));
        const tailArrivals = Array.from({ length: clients }, () => new Arrivals(phase));
        const tails = tailArrivals.map((a) => tailF(log, a));
        try {
          if (!(await waitFor(() => streams.every((s) => s.connected), 10_000))) throw new Error('stream clients did not connect');
          // A first line that every reader must see before timing starts: all are following by then.
          const everyoneHas = (seq: number): boolean =>
            tailArrivals.every((a) => a.at.has(seq)) && streamArrivals.every((a) => a.at.has(seq));
          for (let attempt = 0; attempt < 50 && !everyoneHas(WARM_UP); attempt++) {
            writeSync(fd, markedOrderLine(marker(phase, WARM_UP), stamp));
            await waitFor(() => everyoneHas(WARM_UP), 200);
          }
          if (!everyoneHas(WARM_UP)) throw new Error('the readers never saw the warm-up line');
          const writtenAt = new Map<number, number>();
          for (let seq = 1; seq <= lines; seq++) {
            const text = markedOrderLine(marker(phase, seq), stamp);
            writtenAt.set(seq, performance.now());
            writeSync(fd, text);
            await sleep(gapMs);
          }
          await waitFor(() => everyoneHas(lines), 10_000);
          const latencies = (a: Arrivals): number[] =>
            [...writtenAt].flatMap(([seq, t]) => (a.at.has(seq) ? [a.at.get(seq)! - t] : []));
          const lost = (a: Arrivals): number => [...writtenAt.keys()].filter((seq) => !a.at.has(seq)).length;
          phases.push({
            clients,
            stream: streamArrivals.flatMap(latencies),
            tail: tailArrivals.flatMap(latencies),
            streamLost: streamArrivals.reduce((n, a) => n + lost(a), 0),
            tailLost: tailArrivals.reduce((n, a) => n + lost(a), 0),
            repeats: streamArrivals.reduce((n, a) => n + a.repeats, 0),
          });
        } finally {
          for (const s of streams) s.close();
          for (const t of tails) t.stop();
        }
        await sleep(200);
      }
    } finally {
      closeSync(fd);
      await serve.stop();
    }
    const ms = (v: number): string => v.toFixed(2);
    const rows = phases.flatMap((p) => [
      [`stream, ${p.clients} client${p.clients === 1 ? '' : 's'}`, ms(median(p.stream)), ms(percentile(p.stream, 99)), ms(Math.max(...p.stream)), String(p.streamLost), String(p.repeats)],
      [`tail -F, ${p.clients} reader${p.clients === 1 ? '' : 's'} (same run)`, ms(median(p.tail)), ms(percentile(p.tail, 99)), ms(Math.max(...p.tail)), String(p.tailLost), '0'],
    ]);
    const hundred = phases.find((p) => p.clients === 100)!;
    const one = phases.find((p) => p.clients === 1)!;
    const p99 = percentile(hundred.stream, 99);
    return {
      headline:
        `with 100 stream clients an appended line reaches them in ${ms(median(hundred.stream))} ms median, ` +
        `${ms(p99)} ms p99 (100 tail -F readers: ${ms(median(hundred.tail))} / ${ms(percentile(hundred.tail, 99))} ms), ` +
        `${hundred.streamLost} deliveries lost; p99 ${(p99 / percentile(hundred.tail, 99)).toFixed(2)}× tail -F's; ` +
        `with 1 client ${(percentile(one.stream, 99) / percentile(one.tail, 99)).toFixed(2)}× (${ms(percentile(one.stream, 99))} / ${ms(percentile(one.tail, 99))} ms)`,
      goalMet: p99 <= GOAL_P99_RATIO * percentile(hundred.tail, 99) && hundred.streamLost === 0,
      tables: [
        {
          caption: `${lines} lines appended one write each, ${gapMs} ms apart; latency from the write to the arrival at each reader`,
          header: ['reader', 'p50 ms', 'p99 ms', 'max ms', 'deliveries lost', 'repeats'],
          rows,
        },
      ],
      notes: [
        'The writer, the stream clients, the tail -F pipes\' readers and the timing run in the benchmark process; the ' +
          'agent and tail -F are child processes. With 100 clients the figures include the benchmark process reading ' +
          '100 sockets and 100 pipes in turn.',
        'A reader\'s latency counts every reader: with 100 clients, 100 deliveries per line on each side.',
      ],
    };
  },
};
