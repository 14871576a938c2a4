import { defineConfig } from 'vitest/config';

/** The fault suite (`npm run faults`): the real agent process under disk, kill and state damage. */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Scenarios start agents and mount file systems: one at a time.
    fileParallelism: false,
  },
});
