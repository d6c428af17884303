import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Browser tests share one preview server and one Chromium; run files one at a time there.
    fileParallelism: true,
    pool: 'forks',
  },
});
