/**
 * An in-memory dataset: `count` samples of `sampleShape` each, sample-major, with class labels or float
 * targets. Inputs are bytes (pixels, scaled by 1/255 on the GPU as they are read, a quarter of the upload
 * of float32) or float32 values used as they are; the GPU input stage applies the preprocessing.
 *
 *   MNIST:          x Uint8Array [60000·784], sampleShape [1, 28, 28], labels Uint8Array, numClasses 10
 *   tabular:        x Float32Array [N·F], sampleShape [F], labels (any number of classes) or targets [N·T]
 *   multi-label:    targets Float32Array [N·C] in [0, 1], targetShape [C]
 */
import { ConfigError, DataFormatError, ShapeError } from '../errors';
import type { IdxTensor } from './idx';
import { Rng, shuffledIndices } from './rng';

export type Labels = Uint8Array | Uint16Array | Uint32Array | Int32Array;

export interface Dataset {
  x: Uint8Array | Float32Array;
  /** One sample's shape, without the batch dimension: [784], [1, 28, 28], [3, 32, 32]. */
  sampleShape: readonly number[];
  count: number;
  /** A class index per sample, each < numClasses (classification). */
  labels?: Labels;
  numClasses?: number;
  /** count × targetShape float targets (regression, multi-label classification). */
  targets?: Float32Array;
  targetShape?: readonly number[];
}

export const MNIST_NUM_CLASSES = 10;

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Values per sample. */
export const sampleSize = (ds: Pick<Dataset, 'sampleShape'>) => product(ds.sampleShape);
/** Target values per sample (1 for class labels). */
export const targetSize = (ds: Pick<Dataset, 'targetShape'>) => (ds.targetShape ? product(ds.targetShape) : 1);

export interface DatasetParts {
  x: Uint8Array | Float32Array;
  sampleShape: readonly number[];
  labels?: ArrayLike<number> & { length: number };
  numClasses?: number;
  targets?: Float32Array;
  targetShape?: readonly number[];
}

/**
 * A dataset from typed arrays, checked before any GPU work: the lengths against the shapes, labels whole
 * numbers in [0, numClasses) (numClasses defaults to the largest label + 1), inputs and targets finite.
 * Every problem is a typed error naming the array, the index and the value.
 */
export function tensorDataset(parts: DatasetParts, name = 'dataset'): Dataset {
  const { x, sampleShape } = parts;
  if (!(x instanceof Uint8Array || x instanceof Float32Array)) throw new ConfigError(`${name}: x must be a Float32Array or a Uint8Array; got ${Object.prototype.toString.call(x)}.`);
  if (!Array.isArray(sampleShape) || sampleShape.length === 0 || sampleShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${name}: sampleShape must be a list of positive integers such as [784] or [1, 28, 28]; got ${JSON.stringify(sampleShape)}.`);
  }
  const size = product(sampleShape);
  if (x.length % size !== 0 || x.length === 0) throw new ShapeError(`${name}: x holds ${x.length} values, not a whole number of samples of shape [${sampleShape.join(', ')}] (${size} values each).`);
  const count = x.length / size;
  if (x instanceof Float32Array) {
    const bad = x.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new DataFormatError(`${name}: x[${bad}] is ${x[bad]} (sample ${Math.floor(bad / size)}, feature ${bad % size}); inputs must be finite.`);
  }
  if ((parts.labels === undefined) === (parts.targets === undefined)) {
    throw new ConfigError(`${name}: give exactly one of labels (class indices) and targets (float values); got ${parts.labels ? 'both' : 'neither'}.`);
  }
  if (parts.labels) {
    const labels = parts.labels;
    if (labels.length !== count) throw new ShapeError(`${name}: ${labels.length} labels for ${count} samples.`);
    let max = 0;
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i];
      if (!Number.isInteger(v) || v < 0) throw new DataFormatError(`${name}: labels[${i}] is ${v}; labels must be class indices 0, 1, 2, ...`);
      if (v > max) max = v;
    }
    const numClasses = parts.numClasses ?? max + 1;
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new ConfigError(`${name}: numClasses must be a positive integer; got ${numClasses}.`);
    if (max >= numClasses) {
      const i = Array.prototype.findIndex.call(labels, (v: number) => v >= numClasses);
      throw new DataFormatError(`${name}: labels[${i}] is ${labels[i]}, outside the ${numClasses} classes 0..${numClasses - 1}.`);
    }
    const typed = labels instanceof Uint8Array || labels instanceof Uint16Array || labels instanceof Uint32Array || labels instanceof Int32Array ? labels : Uint32Array.from(labels);
    return { x, sampleShape: [...sampleShape], count, labels: typed, numClasses };
  }
  const targets = parts.targets!;
  if (!(targets instanceof Float32Array)) throw new ConfigError(`${name}: targets must be a Float32Array.`);
  const targetShape = parts.targetShape ?? [targets.length / count];
  if (!targetShape.every((d) => Number.isInteger(d) && d >= 1) || targets.length !== count * product(targetShape)) {
    throw new ShapeError(`${name}: ${targets.length} target values do not make ${count} samples of shape [${targetShape.join(', ')}].`);
  }
  const bad = targets.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DataFormatError(`${name}: targets[${bad}] is ${targets[bad]}; targets must be finite.`);
  return { x, sampleShape: [...sampleShape], count, targets, targetShape: [...targetShape], numClasses: parts.numClasses };
}

/** Pairs an images IDX (N x rows x cols) with a labels IDX (N), checking that they belong together. */
export function makeDataset(images: IdxTensor, labels: IdxTensor, names: { images: string; labels: string }, numClasses = MNIST_NUM_CLASSES): Dataset {
  if (images.dims.length !== 3) {
    throw new DataFormatError(`${names.images}: expected a 3-dimensional images file (count x rows x cols), found dimensions [${images.dims.join(', ')}]`);
  }
  if (labels.dims.length !== 1) throw new DataFormatError(`${names.labels}: expected a 1-dimensional labels file, found dimensions [${labels.dims.join(', ')}]`);
  const [count, rows, cols] = images.dims as [number, number, number];
  const labelCount = labels.dims[0]!;
  if (count !== labelCount) {
    throw new DataFormatError(`image and label counts differ: ${names.images} has ${count} images, ${names.labels} has ${labelCount} labels`);
  }
  const badIndex = labels.data.findIndex((label) => label >= numClasses);
  if (badIndex !== -1) {
    throw new DataFormatError(`${names.labels}: label at index ${badIndex} is ${labels.data[badIndex]}, outside the ${numClasses} classes 0..${numClasses - 1}`);
  }
  return { x: images.data, sampleShape: [1, rows, cols], labels: labels.data, count, numClasses };
}

/** The sample's height and width, for image augmentation (samples [C, H, W] or [H, W]). */
export function imageSize(ds: Pick<Dataset, 'sampleShape'>): { height: number; width: number } | undefined {
  const s = ds.sampleShape;
  if (s.length === 3) return { height: s[1], width: s[2] };
  if (s.length === 2) return { height: s[0], width: s[1] };
  return undefined;
}

/** Examples start..start+count-1 as views into `ds` (no copy). */
export function subset(ds: Dataset, start: number, count: number): Dataset {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > ds.count) {
    throw new ShapeError(`subset: range [${start}, ${start + count}) is not within the ${ds.count} examples`);
  }
  const size = sampleSize(ds);
  const t = targetSize(ds);
  return {
    ...ds,
    x: ds.x.subarray(start * size, (start + count) * size),
    ...(ds.labels ? { labels: ds.labels.subarray(start, start + count) } : {}),
    ...(ds.targets ? { targets: ds.targets.subarray(start * t, (start + count) * t) } : {}),
    count,
  };
}

/** Copies the examples at `indices`, in that order, into a new dataset. */
export function pick(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const size = sampleSize(ds);
  const t = targetSize(ds);
  const x = new (ds.x.constructor as Uint8ArrayConstructor | Float32ArrayConstructor)(indices.length * size);
  const labels = ds.labels ? new (ds.labels.constructor as Uint32ArrayConstructor)(indices.length) : undefined;
  const targets = ds.targets ? new Float32Array(indices.length * t) : undefined;
  for (let target = 0; target < indices.length; target++) {
    const source = indices[target];
    x.set(ds.x.subarray(source * size, (source + 1) * size), target * size);
    if (labels) labels[target] = ds.labels![source];
    if (targets) targets.set(ds.targets!.subarray(source * t, (source + 1) * t), target * t);
  }
  return { ...ds, x, ...(labels ? { labels } : {}), ...(targets ? { targets } : {}), count: indices.length };
}

/**
 * Holds out a random validation set. `validationSize` in (0, 1) is a fraction of `ds.count` (rounded);
 * otherwise it is a whole number of examples. The same seed always picks the same examples.
 */
export function splitDataset(ds: Dataset, validationSize: number, seed: number): { train: Dataset; validation: Dataset } {
  const isFraction = validationSize > 0 && validationSize < 1;
  const validationCount = isFraction ? Math.round(ds.count * validationSize) : validationSize;
  if (!Number.isInteger(validationCount) || validationCount < 0 || validationCount > ds.count) {
    throw new ConfigError(`splitDataset: validation size ${validationSize} must be a fraction in (0, 1) or a whole count in [0, ${ds.count}]`);
  }
  const order = shuffledIndices(ds.count, new Rng(seed));
  return { train: pick(ds, order.subarray(validationCount)), validation: pick(ds, order.subarray(0, validationCount)) };
}

/** Only the samples whose label is in `classes`, relabelled 0, 1, ... in the order given (e.g. digits 5–9 as 0–4). */
export function selectClasses(ds: Dataset, classes: readonly number[]): Dataset {
  if (!ds.labels) throw new ConfigError('selectClasses needs a dataset with class labels.');
  const map = new Map(classes.map((c, i) => [c, i]));
  const indices: number[] = [];
  for (let i = 0; i < ds.count; i++) if (map.has(ds.labels[i])) indices.push(i);
  const picked = pick(ds, indices);
  const labels = new Uint32Array(picked.count);
  for (let i = 0; i < picked.count; i++) labels[i] = map.get(picked.labels![i])!;
  return { ...picked, labels, numClasses: classes.length };
}

/**
 * The dataset with its class labels as one-hot float targets [numClasses] per sample (for the losses on
 * targets: bce, or mse as a classifier's loss). A dataset with targets is returned as it is.
 */
export function oneHotTargets(data: Dataset): Dataset {
  if (!data.labels) return data;
  let classes = data.numClasses ?? 0;
  for (let i = 0; i < data.count && data.numClasses === undefined; i++) classes = Math.max(classes, data.labels[i] + 1);
  const targets = new Float32Array(data.count * classes);
  for (let i = 0; i < data.count; i++) targets[i * classes + data.labels[i]] = 1;
  return { x: data.x, sampleShape: data.sampleShape, count: data.count, targets, targetShape: [classes], numClasses: classes };
}
