/** The four MNIST files and how they pair up; shared by the Node and browser loaders. */
import { type Dataset, makeDataset } from './dataset';
import { parseIdx } from './idx';

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const MNIST_FILE_LIST = Object.values(MNIST_FILES).join(', ');

export interface Mnist {
  train: Dataset;
  test: Dataset;
}

/**
 * Builds both splits from a reader that returns a file's bytes given its MNIST name and the location
 * to mention in errors (a path or a URL).
 */
export async function assembleMnist(
  read: (fileName: string) => Promise<{ bytes: Uint8Array; location: string }>,
): Promise<Mnist> {
  const load = async (fileName: string) => {
    const { bytes, location } = await read(fileName);
    return { idx: parseIdx(bytes, location), location };
  };
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    load(MNIST_FILES.trainImages),
    load(MNIST_FILES.trainLabels),
    load(MNIST_FILES.testImages),
    load(MNIST_FILES.testLabels),
  ]);
  return {
    train: makeDataset(trainImages.idx, trainLabels.idx, {
      images: trainImages.location,
      labels: trainLabels.location,
    }),
    test: makeDataset(testImages.idx, testLabels.idx, { images: testImages.location, labels: testLabels.location }),
  };
}
