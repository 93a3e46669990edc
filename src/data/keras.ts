/**
 * A folder of NumPy files named as Keras names them (`keras.datasets.mnist.load_data()` returns
 * (x_train, y_train), (x_test, y_test); `np.save` each and the folder is ready):
 *
 *   x_train.npy  [N, ...]  uint8 (pixels, scaled to [0, 1] on the GPU), or float32 / float64 (used as they are)
 *   y_train.npy  [N] or [N, 1] integers: class labels;  [N] or [N, ...] floats: targets
 *   x_test.npy, y_test.npy  the same for the test split
 *
 * One sample's shape is x's shape without N, with one change so that Conv2d models take the data as it
 * comes from Keras: a [H, W] image gets a channel, [1, H, W], and a channels-last [H, W, C] image (Keras's
 * own layout, e.g. CIFAR-10's [50000, 32, 32, 3]) is transposed to [C, H, W]. A rank-3 sample counts as
 * channels-last when its last size is 1, 3 or 4 and its first is not; otherwise it is taken as [C, H, W]
 * already. [N, F] gives samples [F]; [N] gives samples [1].
 *
 * Class labels number from 0, and both splits get the same numClasses (the largest label in either + 1),
 * so a test split that lacks the last class still matches the model. Float y gives targets of shape
 * y.shape without N ([1] for a [N] y).
 *
 * This module works on parsed arrays (browsers too); src/data/keras_folder.ts reads the files in Node.
 */
import { DataFormatError } from '../errors';
import { tensorDataset, type Dataset } from './dataset';
import type { NpyArray, NpyData } from './npy';

export const KERAS_FILES = {
  xTrain: 'x_train.npy',
  yTrain: 'y_train.npy',
  xTest: 'x_test.npy',
  yTest: 'y_test.npy',
} as const;

export const KERAS_FILE_LIST = Object.values(KERAS_FILES).join(', ');

/** A parsed .npy file and the location to name in errors. */
export interface NamedNpy {
  array: NpyArray;
  location: string;
}

export interface KerasArrays {
  xTrain: NamedNpy;
  yTrain: NamedNpy;
  xTest: NamedNpy;
  yTest: NamedNpy;
}

/** A class index beyond this would wrap in the engine's 32-bit label buffers; no real data set has as many. */
const MAX_CLASS_INDEX = 2 ** 31 - 1;

const INTEGER_TYPES = new Set(['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

const shapeText = (shape: readonly number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

/** The sample shape for x of `shape` (N first), and whether its samples are channels-last images. */
export function kerasSampleShape(shape: readonly number[]): { sampleShape: number[]; channelsLast: boolean } {
  const sample = shape.slice(1);
  if (sample.length === 0) return { sampleShape: [1], channelsLast: false };
  if (sample.length === 2) return { sampleShape: [1, ...sample], channelsLast: false };
  if (sample.length === 3) {
    const [a, b, c] = sample;
    const isChannels = (n: number) => n === 1 || n === 3 || n === 4;
    if (isChannels(c) && !isChannels(a)) return { sampleShape: [c, a, b], channelsLast: true };
  }
  return { sampleShape: sample, channelsLast: false };
}

/** [N, H, W, C] samples rewritten as [N, C, H, W]. */
function channelsFirst<T extends Uint8Array | Float32Array>(x: T, count: number, h: number, w: number, c: number): T {
  const out = new (x.constructor as new (n: number) => T)(x.length);
  const plane = h * w;
  for (let n = 0; n < count; n++) {
    const base = n * plane * c;
    for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) out[base + k * plane + p] = x[base + p * c + k];
  }
  return out;
}

function inputs({ array, location }: NamedNpy): { x: Uint8Array | Float32Array; sampleShape: number[] } {
  const { shape, dtype, data } = array;
  if (shape.length === 0) throw new DataFormatError(`${location}: x must be an array of samples, [N, ...]; found a single value (shape ())`);
  if (shape[0] === 0) throw new DataFormatError(`${location}: holds no samples (shape ${shapeText(shape)})`);
  if (shape.includes(0)) throw new DataFormatError(`${location}: samples of shape ${shapeText(shape.slice(1))} hold no values`);
  if (!(data instanceof Uint8Array) && !(dtype === 'float32' || dtype === 'float64')) {
    throw new DataFormatError(`${location}: x is ${dtype}; inputs must be uint8 (pixels, scaled to [0, 1]) or float32/float64 (used as they are); convert it with x.astype('float32')`);
  }
  const x = data as Uint8Array | Float32Array;
  const { sampleShape, channelsLast } = kerasSampleShape(shape);
  return { x: channelsLast ? channelsFirst(x, shape[0], shape[1], shape[2], shape[3]) : x, sampleShape };
}

interface Outputs {
  labels?: NpyData;
  maxLabel?: number;
  targets?: Float32Array;
  targetShape?: number[];
}

function outputs({ array, location }: NamedNpy, count: number, xLocation: string): Outputs {
  const { shape, dtype, data } = array;
  if (shape.length === 0 || shape[0] !== count) {
    throw new DataFormatError(`${location}: ${shape.length ? `${shape[0]} values` : 'a single value'} for the ${count} samples of ${xLocation}; y must be [${count}] or [${count}, ...]`);
  }
  if (INTEGER_TYPES.has(dtype)) {
    if (shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
      throw new DataFormatError(`${location}: integer y of shape ${shapeText(shape)}; class labels must be [N] or [N, 1] (for one-hot or multi-label targets save y as float32)`);
    }
    let max = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < 0 || v > MAX_CLASS_INDEX) throw new DataFormatError(`${location}: label ${i} is ${v}; class labels must be 0, 1, 2, ... (at most ${MAX_CLASS_INDEX})`);
      if (v > max) max = v;
    }
    return { labels: data, maxLabel: max };
  }
  const targets = data as Float32Array;
  const bad = targets.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DataFormatError(`${location}: value ${bad} is ${targets[bad]}; targets must be finite`);
  return { targets, targetShape: shape.length === 1 ? [1] : shape.slice(1) };
}

/** Both splits from the four parsed arrays, checked against each other; every problem names the file. */
export function kerasDatasets(files: KerasArrays): { train: Dataset; test: Dataset } {
  const train = { ...inputs(files.xTrain), location: files.xTrain.location };
  const test = { ...inputs(files.xTest), location: files.xTest.location };
  const trainKind = files.xTrain.array.data instanceof Uint8Array ? 'uint8' : 'float';
  const testKind = files.xTest.array.data instanceof Uint8Array ? 'uint8' : 'float';
  // Bytes are scaled by 1/255 and floats are not, so mixed splits would be on different scales.
  if (trainKind !== testKind) {
    throw new DataFormatError(`${files.xTest.location}: x is ${files.xTest.array.dtype} but ${files.xTrain.location} is ${files.xTrain.array.dtype}; save both as uint8 or both as floats`);
  }
  if (train.sampleShape.join() !== test.sampleShape.join()) {
    throw new DataFormatError(`${files.xTest.location}: samples of shape ${shapeText(files.xTest.array.shape.slice(1))}, but ${files.xTrain.location} has ${shapeText(files.xTrain.array.shape.slice(1))}`);
  }
  const trainY = outputs(files.yTrain, files.xTrain.array.shape[0], files.xTrain.location);
  const testY = outputs(files.yTest, files.xTest.array.shape[0], files.xTest.location);
  if ((trainY.labels === undefined) !== (testY.labels === undefined)) {
    const kind = (o: Outputs, f: NamedNpy) => `${f.location} is ${f.array.dtype} (${o.labels ? 'class labels' : 'float targets'})`;
    throw new DataFormatError(`y of the two splits differ: ${kind(trainY, files.yTrain)}, ${kind(testY, files.yTest)}`);
  }
  if (trainY.labels) {
    const numClasses = Math.max(trainY.maxLabel!, testY.maxLabel!) + 1;
    return {
      train: tensorDataset({ x: train.x, sampleShape: train.sampleShape, labels: trainY.labels, numClasses }, train.location),
      test: tensorDataset({ x: test.x, sampleShape: test.sampleShape, labels: testY.labels, numClasses }, test.location),
    };
  }
  if (trainY.targetShape!.join() !== testY.targetShape!.join()) {
    throw new DataFormatError(`${files.yTest.location}: targets of shape ${shapeText(testY.targetShape!)}, but ${files.yTrain.location} has ${shapeText(trainY.targetShape!)}`);
  }
  return {
    train: tensorDataset({ x: train.x, sampleShape: train.sampleShape, targets: trainY.targets, targetShape: trainY.targetShape }, train.location),
    test: tensorDataset({ x: test.x, sampleShape: test.sampleShape, targets: testY.targets, targetShape: testY.targetShape }, test.location),
  };
}
