import { defineConfig } from 'vitest/config';
import { LONG_SUITES } from './vitest.config.js';

/** `npm run test:long`: the slower suites, and the durability model at full length. */
export default defineConfig({
  test: {
    include: [...LONG_SUITES, 'test/integration/durability-model.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
