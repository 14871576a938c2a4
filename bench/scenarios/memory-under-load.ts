/**
 * Scenario 3, memory under load: resident memory of the agent while a log grows
 * fast and one of its stream clients never reads.
 */
import { commandMissing } from '../prerequisites.js';
import type { Scenario } from '../scenario.js';

export const memoryUnderLoad: Scenario = {
  id: 3,
  name: 'memory',
  title: 'Memory under load',
  goal: 'RSS stays flat and under 80 MB at 10,000 lines/s for 60 s with 100 stream clients, one never reading',
  design:
    'Start `restore-watcher serve` on 127.0.0.1, port 0, with a restore active. Connect 99 clients that read ' +
    'the event stream and one that connects and never reads (a raw socket with a tiny receive buffer). Append ' +
    '10,000 generated lines/s for 60 s (--quick: 10 s) in batches every 10 ms. Sample the server\'s VmRSS every ' +
    '500 ms: report RSS at start, peak, end, the slope over the last half, whether the slow client was dropped ' +
    '(and when), and events delivered to the reading clients.',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  run() {
    return Promise.reject(new Error('not implemented until `serve` exists'));
  },
};
