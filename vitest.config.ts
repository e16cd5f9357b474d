import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: test files that each start a hub run a couple at a time, not all at once.
    maxWorkers: 2,
    pool: 'forks',
  },
});
