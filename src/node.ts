/** Node-only helpers: reading MNIST from disk. */
export { loadMnist, defaultMnistDir } from './data/mnist_node';
