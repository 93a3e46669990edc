// A folder of Keras-named .npy files (src/data/keras_folder.ts) and the detection of a data folder's kind
// (src/data/data_folder.ts): shapes, labels, targets and every refusal naming the file.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFolderProblem, detectDataFolder, loadDataFolder } from '../../src/data/data_folder';
import { encodeIdx } from '../../src/data/idx';
import { KERAS_FILES, kerasSampleShape } from '../../src/data/keras';
import { loadNpyFolder } from '../../src/data/keras_folder';
import { MNIST_FILES } from '../../src/data/mnist';
import { loadMnist } from '../../src/data/mnist_node';
import { encodeNpy, type NpyInput } from '../../src/data/npy';
import { DataFormatError } from '../../src/errors';
import { temporaryFolder } from '../helpers/cli';

let root = '';

/** A folder `name` holding the given .npy files (name → [shape, data]) or raw bytes. */
function folder(name: string, files: Record<string, [number[], NpyInput] | Uint8Array>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content instanceof Uint8Array ? content : encodeNpy(...content));
  return dir;
}

const bytes = (n: number, f = (i: number) => i % 256) => Uint8Array.from({ length: n }, (_, i) => f(i));
const floats = (n: number, f = (i: number) => i / 10) => Float32Array.from({ length: n }, (_, i) => f(i));

/** x [N, 2, 3] uint8 images and labels. */
const images = (nTrain: number, nTest: number, yTrain: NpyInput, yTest: NpyInput) => ({
  [KERAS_FILES.xTrain]: [[nTrain, 2, 3], bytes(nTrain * 6)] as [number[], NpyInput],
  [KERAS_FILES.yTrain]: [[yTrain.length], yTrain] as [number[], NpyInput],
  [KERAS_FILES.xTest]: [[nTest, 2, 3], bytes(nTest * 6, (i) => 255 - (i % 256))] as [number[], NpyInput],
  [KERAS_FILES.yTest]: [[yTest.length], yTest] as [number[], NpyInput],
});

const refusal = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message.replaceAll(root, 'ROOT');
  }
  throw new Error('accepted');
};

beforeAll(() => {
  root = temporaryFolder('keras');
});
afterAll(() => rmSync(root, { recursive: true, force: true })); // MNIST as .npy is 55 MB

describe('loadNpyFolder', () => {
  it('uint8 [N, H, W] images: byte inputs of [1, H, W], labels, numClasses from both splits', async () => {
    // Class 3 is only in the test split; both splits get numClasses 4.
    const dir = folder('mnist-like', images(4, 2, Uint8Array.of(0, 1, 2, 1), BigInt64Array.of(3n, 0n)));
    const { train, test } = await loadNpyFolder(dir);
    expect(train).toMatchObject({ count: 4, sampleShape: [1, 2, 3], numClasses: 4 });
    expect(test).toMatchObject({ count: 2, sampleShape: [1, 2, 3], numClasses: 4 });
    expect(train.x).toBeInstanceOf(Uint8Array);
    expect(Array.from(train.x)).toEqual(Array.from(bytes(24)));
    expect(Array.from(train.labels!)).toEqual([0, 1, 2, 1]);
    expect(Array.from(test.labels!)).toEqual([3, 0]);
  });

  it('float32 and float64 [N, F] features: float inputs of [F]; float y: targets of [1] or [T]', async () => {
    const dir = folder('tabular', {
      [KERAS_FILES.xTrain]: [[3, 2], Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6)],
      [KERAS_FILES.yTrain]: [[3], Float32Array.of(1.5, -2, 0)],
      [KERAS_FILES.xTest]: [[1, 2], Float32Array.of(9, 8)],
      [KERAS_FILES.yTest]: [[1], Float64Array.of(0.25)],
    });
    const { train, test } = await loadNpyFolder(dir);
    expect(train).toMatchObject({ count: 3, sampleShape: [2], targetShape: [1] });
    expect(train.labels).toBeUndefined();
    expect(train.x).toBeInstanceOf(Float32Array);
    expect(Array.from(train.x)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map(Math.fround));
    expect(Array.from(train.targets!)).toEqual([1.5, -2, 0]);
    expect(Array.from(test.targets!)).toEqual([0.25]);

    const multi = folder('multi-target', {
      [KERAS_FILES.xTrain]: [[2, 3], floats(6)],
      [KERAS_FILES.yTrain]: [[2, 2], Float32Array.of(0, 1, 1, 0)],
      [KERAS_FILES.xTest]: [[1, 3], floats(3)],
      [KERAS_FILES.yTest]: [[1, 2], Float32Array.of(1, 1)],
    });
    expect((await loadNpyFolder(multi)).train).toMatchObject({ sampleShape: [3], targetShape: [2], count: 2 });
  });

  it('channels-last [N, H, W, C] images (CIFAR as Keras gives it) become [C, H, W]; y [N, 1] are labels', async () => {
    // Pixel (n, h, w, c) holds 100 n + 10 c + (3 h + w): after the transpose, channel planes in order.
    const n = 2, h = 2, w = 3, c = 3;
    const x = new Uint8Array(n * h * w * c);
    for (let a = 0; a < n; a++) for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) x[(a * h * w + p) * c + k] = 100 * a + 10 * k + p;
    const dir = folder('cifar-like', {
      [KERAS_FILES.xTrain]: [[n, h, w, c], x],
      [KERAS_FILES.yTrain]: [[n, 1], Uint8Array.of(6, 9)],
      [KERAS_FILES.xTest]: [[n, h, w, c], x],
      [KERAS_FILES.yTest]: [[n, 1], Uint8Array.of(9, 0)],
    });
    const { train } = await loadNpyFolder(dir);
    expect(train).toMatchObject({ sampleShape: [3, 2, 3], numClasses: 10 });
    expect(Array.from(train.x.subarray(0, 18))).toEqual([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25]);
    expect(Array.from(train.x.subarray(18, 24))).toEqual([100, 101, 102, 103, 104, 105]);
    expect(Array.from(train.labels!)).toEqual([6, 9]);
  });

  it('sample shapes: [N] → [1], [N, F] → [F], [N, H, W] → [1, H, W], [N, C, H, W] kept, [N, H, W, C] transposed', () => {
    expect(kerasSampleShape([5]).sampleShape).toEqual([1]);
    expect(kerasSampleShape([5, 7]).sampleShape).toEqual([7]);
    expect(kerasSampleShape([5, 28, 28]).sampleShape).toEqual([1, 28, 28]);
    expect(kerasSampleShape([5, 3, 32, 32])).toEqual({ sampleShape: [3, 32, 32], channelsLast: false });
    expect(kerasSampleShape([5, 32, 32, 3])).toEqual({ sampleShape: [3, 32, 32], channelsLast: true });
    expect(kerasSampleShape([5, 28, 28, 1])).toEqual({ sampleShape: [1, 28, 28], channelsLast: true });
    expect(kerasSampleShape([5, 1, 28, 1])).toEqual({ sampleShape: [1, 28, 1], channelsLast: false }); // ambiguous: taken as given
    expect(kerasSampleShape([5, 2, 3, 4, 5]).sampleShape).toEqual([2, 3, 4, 5]);
  });

  it('a missing file names the folder and the four expected files', async () => {
    const { [KERAS_FILES.xTrain]: _x, [KERAS_FILES.yTest]: _y, ...two } = images(2, 2, Uint8Array.of(0, 1), Uint8Array.of(1, 0));
    expect(await refusal(loadNpyFolder(folder('two-files', two)))).toBe(
      'ROOT/two-files: x_train.npy, y_test.npy not found; a Keras NumPy folder must hold the four files x_train.npy, y_train.npy, x_test.npy, y_test.npy',
    );
  });

  it.each([
    ['x int32', { [KERAS_FILES.xTrain]: [[2, 2, 3], new Int32Array(12)] }, /^ROOT\/\w+\/x_train\.npy: x is int32; inputs must be uint8 .* or float32\/float64 .*x\.astype\('float32'\)$/],
    ['x a single value', { [KERAS_FILES.xTrain]: [[], Float32Array.of(1)] }, /x_train\.npy: x must be an array of samples, \[N, \.\.\.\]; found a single value/],
    ['x with no samples', { [KERAS_FILES.xTrain]: [[0, 2, 3], new Uint8Array(0)], [KERAS_FILES.yTrain]: [[0], new Uint8Array(0)] }, /x_train\.npy: holds no samples \(shape \(0, 2, 3\)\)$/],
    ['x samples with a zero size', { [KERAS_FILES.xTest]: [[2, 0, 3], new Uint8Array(0)] }, /x_test\.npy: samples of shape \(0, 3\) hold no values$/],
    ['x NaN', { [KERAS_FILES.xTrain]: [[2, 2, 3], floats(12, (i) => (i === 7 ? NaN : i))], [KERAS_FILES.xTest]: [[2, 2, 3], floats(12)] }, /x_train\.npy: x\[7\] is NaN \(sample 1, feature 1\); inputs must be finite/],
    ['uint8 train, float test', { [KERAS_FILES.xTest]: [[2, 2, 3], floats(12)] }, /x_test\.npy: x is float32 but ROOT\/\w+\/x_train\.npy is uint8; save both as uint8 or both as floats$/],
    ['sample shapes differ', { [KERAS_FILES.xTest]: [[2, 3, 2], bytes(12)] }, /x_test\.npy: samples of shape \(3, 2\), but .*x_train\.npy has \(2, 3\)$/],
    ['y count', { [KERAS_FILES.yTrain]: [[3], Uint8Array.of(0, 1, 2)] }, /y_train\.npy: 3 values for the 2 samples of .*x_train\.npy; y must be \[2\] or \[2, \.\.\.\]$/],
    ['y negative', { [KERAS_FILES.yTest]: [[2], Int16Array.of(1, -1)] }, /y_test\.npy: label 1 is -1; class labels must be 0, 1, 2, \.\.\./],
    ['y huge', { [KERAS_FILES.yTest]: [[2], BigInt64Array.of(1n, 2n ** 40n)] }, /y_test\.npy: label 1 is 1099511627776; class labels must be 0, 1, 2, \.\.\. \(at most 2147483647\)$/],
    ['y one-hot integers', { [KERAS_FILES.yTrain]: [[2, 2], Uint8Array.of(1, 0, 0, 1)] }, /y_train\.npy: integer y of shape \(2, 2\); class labels must be \[N\] or \[N, 1\] \(for one-hot or multi-label targets save y as float32\)$/],
    ['y labels and targets', { [KERAS_FILES.yTest]: [[2], Float32Array.of(1, 0)] }, /^y of the two splits differ: .*y_train\.npy is uint8 \(class labels\), .*y_test\.npy is float32 \(float targets\)$/],
    ['y target Infinity', { [KERAS_FILES.yTrain]: [[2], Float32Array.of(1, Infinity)], [KERAS_FILES.yTest]: [[2], Float32Array.of(1, 0)] }, /y_train\.npy: value 1 is Infinity; targets must be finite$/],
    ['target shapes differ', { [KERAS_FILES.yTrain]: [[2, 2], floats(4)], [KERAS_FILES.yTest]: [[2, 3], floats(6)] }, /y_test\.npy: targets of shape \(3,\), but .*y_train\.npy has \(2,\)$/],
    ['a malformed .npy', { [KERAS_FILES.yTest]: Uint8Array.of(1, 2, 3) }, /^ROOT\/\w+\/y_test\.npy: not an NPY file/],
  ] as [string, Record<string, [number[], NpyInput] | Uint8Array>, RegExp][])('%s: a DataFormatError naming the file', async (name, changes, says) => {
    const dir = folder(name.replace(/\W+/g, '_'), { ...images(2, 2, Uint8Array.of(0, 1), Uint8Array.of(1, 0)), ...changes });
    expect(await refusal(loadNpyFolder(dir))).toMatch(says);
  });
});

describe('data folder detection', () => {
  it('an IDX folder is still MNIST; a Keras folder is keras; loadDataFolder reads either', async () => {
    const idx = folder('idx', {
      [MNIST_FILES.trainImages]: encodeIdx([2, 2, 2], bytes(8)),
      [MNIST_FILES.trainLabels]: encodeIdx([2], Uint8Array.of(3, 4)),
      [MNIST_FILES.testImages]: encodeIdx([1, 2, 2], bytes(4)),
      [MNIST_FILES.testLabels]: encodeIdx([1], Uint8Array.of(9)),
    });
    expect(detectDataFolder(idx)).toEqual({ kind: 'mnist' });
    const mnist = await loadDataFolder(idx);
    expect(mnist.kind).toBe('mnist');
    expect(mnist.train).toMatchObject({ count: 2, sampleShape: [1, 2, 2], numClasses: 10 });

    const keras = folder('keras', images(2, 1, Uint8Array.of(0, 1), Uint8Array.of(1)));
    expect(detectDataFolder(keras)).toEqual({ kind: 'keras' });
    const loaded = await loadDataFolder(keras);
    expect(loaded.kind).toBe('keras');
    expect(loaded.train).toMatchObject({ count: 2, sampleShape: [1, 2, 3], numClasses: 2 });
    expect(dataFolderProblem(keras)).toBeUndefined();
  });

  it('MNIST saved as Keras gives it (x uint8 [N, 28, 28], y uint8 [N]) loads as the very dataset the IDX files give', async () => {
    const idx = await loadMnist();
    const dir = folder('mnist-npy', {
      [KERAS_FILES.xTrain]: [[idx.train.count, 28, 28], idx.train.x as Uint8Array],
      [KERAS_FILES.yTrain]: [[idx.train.count], idx.train.labels as Uint8Array],
      [KERAS_FILES.xTest]: [[idx.test.count, 28, 28], idx.test.x as Uint8Array],
      [KERAS_FILES.yTest]: [[idx.test.count], idx.test.labels as Uint8Array],
    });
    const npy = await loadDataFolder(dir);
    expect(npy.kind).toBe('keras');
    for (const split of ['train', 'test'] as const) {
      const [a, b] = [idx[split], npy[split]];
      expect([b.count, b.sampleShape, b.numClasses]).toEqual([a.count, a.sampleShape, a.numClasses]);
      expect(b.x).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(Buffer.from(b.x.buffer, b.x.byteOffset, b.x.byteLength), Buffer.from(a.x.buffer, a.x.byteOffset, a.x.byteLength))).toBe(0);
      expect(Array.from(b.labels!)).toEqual(Array.from(a.labels!));
    }
  });

  it('a folder with neither names both sets of files; partial sets name what is missing', async () => {
    const empty = folder('empty', { 'notes.txt': Uint8Array.of(1) });
    const neither = 'it holds neither the four MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) nor the four Keras NumPy files (x_train.npy, y_train.npy, x_test.npy, y_test.npy)';
    expect(dataFolderProblem(empty)).toBe(neither);
    expect(await refusal(loadDataFolder(empty))).toBe(`ROOT/empty: not a data folder: ${neither}`);

    const half = folder('half-keras', { [KERAS_FILES.xTrain]: [[1], Uint8Array.of(1)], [KERAS_FILES.yTrain]: [[1], Uint8Array.of(1)] });
    expect(dataFolderProblem(half)).toBe('x_test.npy, y_test.npy are missing (a Keras NumPy folder holds x_train.npy, y_train.npy, x_test.npy, y_test.npy)');
    const threeIdx = folder('three-idx', Object.fromEntries(Object.values(MNIST_FILES).slice(0, 3).map((n) => [n, Uint8Array.of()])));
    expect(dataFolderProblem(threeIdx)).toBe('t10k-labels-idx1-ubyte is missing');
    const mixed = folder('mixed', { [MNIST_FILES.trainImages]: Uint8Array.of(), [KERAS_FILES.xTrain]: Uint8Array.of() });
    expect(dataFolderProblem(mixed)).toMatch(/^it holds some of each kind of file: for MNIST IDX files train-labels-idx1-ubyte, .* are missing; for Keras NumPy files y_train\.npy, x_test\.npy, y_test\.npy are missing/);
  });

  it('gzipped IDX files and .npz archives get a hint', () => {
    const gz = folder('gz', Object.fromEntries(Object.values(MNIST_FILES).map((n) => [`${n}.gz`, Uint8Array.of()])));
    expect(dataFolderProblem(gz)).toMatch(/nor the four Keras NumPy files .*; train-images-idx3-ubyte\.gz, .* must be decompressed first \(gunzip\)$/);
    const npz = folder('npz', { 'mnist.npz': Uint8Array.of(0x50, 0x4b) });
    expect(dataFolderProblem(npz)).toMatch(/; mnist\.npz must be unpacked first \(np\.load it, then np\.save each array as its own \.npy\)$/);
  });
});
