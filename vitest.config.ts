import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Slower end-to-end suites: `npm run test:long` runs them (CI too), `npm test`
 * does not, so that it stays near two minutes on two cores.
 */
export const LONG_SUITES = ['test/bosh/smoke.test.ts', 'test/integration/corpus-regenerate.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite runs on its own: npm run faults (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**', ...LONG_SUITES],
    // vitest runs cores - 1 files at a time by default: one on two cores. These tests
    // mostly wait on the processes they start (agents, curl, chromium, promtool), so a
    // file per core keeps both busy: 87 s instead of 135 s on two cores, and green twice
    // in a row with two busy loops beside it (140 s).
    maxWorkers: Math.max(2, availableParallelism()),
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
