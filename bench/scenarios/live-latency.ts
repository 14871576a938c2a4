/**
 * Scenario 2, live latency: how long an appended line takes to reach clients of
 * the event stream, against `tail -F` on the same file as the reference.
 */
import { commandMissing } from '../prerequisites.js';
import type { Scenario } from '../scenario.js';

export const liveLatency: Scenario = {
  id: 2,
  name: 'latency',
  title: 'Live latency',
  goal: 'p99 append → stream delivery ≤ 10 ms with 100 stream clients',
  design:
    'Start `restore-watcher serve` on 127.0.0.1 with port 0 and a fresh state dir, on a log that already holds ' +
    'an accepted `POST /v1/restore`, so every appended `POST /v1/order` line becomes one progress event. Connect ' +
    '1, 10, then 100 clients to GET /events/stream and one `tail -F` child on the same file. Append 1,000 lines one ' +
    'at a time (one write each, a few ms apart), noting the time of each write; each client and tail note when ' +
    'the line arrives (matched by the byte offset in the event, by content for tail). Report p50/p99/max per ' +
    'client count for the stream and for tail -F, lines lost, and the ratio to tail.',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  run() {
    return Promise.reject(new Error('not implemented until `serve` exists'));
  },
};
