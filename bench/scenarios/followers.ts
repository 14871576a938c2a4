/**
 * Scenario 4, followers side by side: restore-watcher's follower and the npm
 * `tail` package through the same rotations, counting lines lost and repeated.
 */
import { moduleMissing } from '../prerequisites.js';
import type { Scenario } from '../scenario.js';

export const followers: Scenario = {
  id: 4,
  name: 'followers',
  title: 'Followers side by side',
  goal: 'no line lost or duplicated through create, copytruncate, truncate and delete/recreate rotations',
  design:
    'For each rotation kind (create: rename then new file; copytruncate: copy then truncate in place; truncate; ' +
    'delete then recreate), a writer appends numbered lines at a steady rate, rotates in the middle, and goes ' +
    'on. The follower under src/tail/ and the npm `tail` package (follow: true, useWatchFile and fs.watch modes) ' +
    'follow the same path at the same time. Afterwards each reader\'s sequence numbers are compared with what was ' +
    'written: lines lost, lines duplicated, and the delay to pick up the new file.',
  missing: async (ctx) => moduleMissing(ctx, 'tail', 'the follower'),
  run() {
    return Promise.reject(new Error('not implemented until the follower exists'));
  },
};
