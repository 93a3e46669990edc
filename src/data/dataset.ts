/**
 * An in-memory labelled image set. Pixels stay raw bytes (0..255) all the way to the GPU: the upload is
 * 4x smaller than float32, and the GPU input stage scales them to [0, 1] as it reads them.
 */
import { ConfigError, DataFormatError, ShapeError } from '../errors';
import type { IdxTensor } from './idx';
import { Rng, shuffledIndices } from './rng';

export interface Dataset {
  /** count * rows * cols raw pixel bytes, image-major then row-major. */
  images: Uint8Array;
  /** count class indices, each < numClasses. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
  numClasses: number;
}

export const MNIST_NUM_CLASSES = 10;

/** Pairs an images IDX (N x rows x cols) with a labels IDX (N), checking that they belong together. */
export function makeDataset(
  images: IdxTensor,
  labels: IdxTensor,
  names: { images: string; labels: string },
  numClasses = MNIST_NUM_CLASSES,
): Dataset {
  if (images.dims.length !== 3) {
    throw new DataFormatError(
      `${names.images}: expected a 3-dimensional images file (count x rows x cols), ` +
        `found dimensions [${images.dims.join(', ')}]`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new DataFormatError(
      `${names.labels}: expected a 1-dimensional labels file, found dimensions [${labels.dims.join(', ')}]`,
    );
  }
  const [count, rows, cols] = images.dims as [number, number, number];
  const labelCount = labels.dims[0]!;
  if (count !== labelCount) {
    throw new DataFormatError(
      `image and label counts differ: ${names.images} has ${count} images, ${names.labels} has ${labelCount} labels`,
    );
  }
  const badIndex = labels.data.findIndex((label) => label >= numClasses);
  if (badIndex !== -1) {
    throw new DataFormatError(
      `${names.labels}: label at index ${badIndex} is ${labels.data[badIndex]}, ` +
        `outside the ${numClasses} classes 0..${numClasses - 1}`,
    );
  }
  return { images: images.data, labels: labels.data, count, rows, cols, numClasses };
}

/** Examples start..start+count-1 as views into `ds` (no copy). */
export function subset(ds: Dataset, start: number, count: number): Dataset {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > ds.count) {
    throw new ShapeError(`subset: range [${start}, ${start + count}) is not within the ${ds.count} examples`);
  }
  const pixels = ds.rows * ds.cols;
  return {
    ...ds,
    images: ds.images.subarray(start * pixels, (start + count) * pixels),
    labels: ds.labels.subarray(start, start + count),
    count,
  };
}

/** Copies the examples at `indices`, in that order, into a new dataset. */
function gather(ds: Dataset, indices: Uint32Array): Dataset {
  const pixels = ds.rows * ds.cols;
  const images = new Uint8Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  indices.forEach((source, target) => {
    images.set(ds.images.subarray(source * pixels, (source + 1) * pixels), target * pixels);
    labels[target] = ds.labels[source]!;
  });
  return { ...ds, images, labels, count: indices.length };
}

/**
 * Holds out a random validation set. `validationSize` in (0, 1) is a fraction of `ds.count` (rounded);
 * otherwise it is a whole number of examples. The same seed always picks the same examples.
 */
export function splitDataset(
  ds: Dataset,
  validationSize: number,
  seed: number,
): { train: Dataset; validation: Dataset } {
  const isFraction = validationSize > 0 && validationSize < 1;
  const validationCount = isFraction ? Math.round(ds.count * validationSize) : validationSize;
  if (!Number.isInteger(validationCount) || validationCount < 0 || validationCount > ds.count) {
    throw new ConfigError(
      `splitDataset: validation size ${validationSize} must be a fraction in (0, 1) ` +
        `or a whole count in [0, ${ds.count}]`,
    );
  }
  const order = shuffledIndices(ds.count, new Rng(seed));
  return {
    train: gather(ds, order.subarray(validationCount)),
    validation: gather(ds, order.subarray(0, validationCount)),
  };
}
