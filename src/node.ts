/** Node-only helpers: reading MNIST from disk. */
export { loadMnist, defaultMnistDir } from './data/mnist_node';
export { writeFileAtomically } from './io/atomic_write';
export { fileTuningStore, defaultTuningFile } from './kernels/tuning_store_node';
