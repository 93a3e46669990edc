import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A fresh autotune cache for the run: the tuning path runs whatever the user's cache holds.
    globalSetup: ['test/setup/autotune_cache.ts'],
    // GPU work on SwiftShader is CPU-bound: run test files one at a time on this 2-core machine.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
