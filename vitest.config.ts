import { defineConfig } from 'vitest/config';

// Integration suites start real daemons; two cores only, so files run at most two at a time
// and timeouts leave room for a loaded machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
