import { defineConfig } from 'vitest/config';

// Files that drive a browser or rebuild dist/ (npm pack builds) run alone, one at a time, after the rest:
// a browser uses both cores, the demo test measures main-thread long tasks, and a rebuild under a running
// test that spawns dist/*.js would race it.
const exclusive = ['test/browser/**/*.test.ts', 'test/demo/**/*.test.ts', 'test/package/**/*.test.ts'];

export default defineConfig({
  test: {
    // A fresh autotune cache for the run: the tuning path runs whatever the user's cache holds.
    globalSetup: ['test/setup/autotune_cache.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        // package.json runs this project with --max-workers 2: SwiftShader in Dawn keeps about one core busy per
        // process, so two Node test files at once nearly halve it on a 2-core machine. The other runs one file at a time.
        test: { name: "node", include: ["test/**/*.test.ts"], exclude: exclusive },
      },
      {
        extends: true,
        test: { name: "exclusive", include: exclusive },
      },
    ],
  },
});
