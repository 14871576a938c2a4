/**
 * Scenario 5, catch-up: starting on a large existing log, how soon the agent
 * answers /status and how long until it has read to the end.
 */
import { commandMissing } from '../prerequisites.js';
import type { Scenario } from '../scenario.js';

export const catchUp: Scenario = {
  id: 5,
  name: 'catch-up',
  title: 'Catch-up on a 1 GB log',
  goal: 'the first /status answer does not wait for the whole file',
  design:
    'Generate a 1 GB production.log (about 9.5 million lines; --quick: 100 MB), start `restore-watcher serve` ' +
    'on it with an empty state dir on 127.0.0.1, port 0, and poll GET /status every 10 ms. Report the time to ' +
    'the first 200 answer, the time until the reported position reaches the file size, peak RSS while catching ' +
    'up, and, for comparison, the `replay --json` time for the same file.',
  missing: (ctx) => commandMissing(ctx, 'serve'),
  run() {
    return Promise.reject(new Error('not implemented until `serve` exists'));
  },
};
