import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Engine tests start worker threads of their own; two test files at a time fit 2 cores.
    maxWorkers: 2,
  },
});
