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
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
