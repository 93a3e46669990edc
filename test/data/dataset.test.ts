import { describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError, ShapeError } from '../../src/errors';
import { makeDataset, oneHotTargets, selectClasses, splitDataset, subset, tensorDataset } from '../../src/data/dataset';
import type { IdxTensor } from '../../src/data/idx';

const names = { images: 'imgs.idx', labels: 'lbls.idx' };

/** n 2x2 images where every pixel of image i is i, labelled i % 10. */
function toyIdx(n: number): { images: IdxTensor; labels: IdxTensor } {
  return {
    images: { dims: [n, 2, 2], data: Uint8Array.from({ length: n * 4 }, (_, i) => Math.floor(i / 4)) },
    labels: { dims: [n], data: Uint8Array.from({ length: n }, (_, i) => i % 10) },
  };
}

describe('makeDataset', () => {
  it('pairs images with labels', () => {
    const { images, labels } = toyIdx(5);
    const ds = makeDataset(images, labels, names);
    expect(ds).toMatchObject({ count: 5, sampleShape: [1, 2, 2], numClasses: 10 });
    expect(ds.x.length).toBe(20);
  });

  it('rejects a label out of range, naming the index and value', () => {
    const { images, labels } = toyIdx(5);
    labels.data[3] = 12;
    expect(() => makeDataset(images, labels, names)).toThrow(DataFormatError);
    expect(() => makeDataset(images, labels, names)).toThrow(/lbls\.idx: label at index 3 is 12/);
  });

  it('rejects mismatched counts, naming both files and counts', () => {
    const { images } = toyIdx(5);
    const { labels } = toyIdx(4);
    expect(() => makeDataset(images, labels, names)).toThrow(/imgs\.idx has 5 images, lbls\.idx has 4 labels/);
  });

  it('rejects files of the wrong rank', () => {
    const { images, labels } = toyIdx(5);
    expect(() => makeDataset(labels, labels, names)).toThrow(/imgs\.idx: expected a 3-dimensional images file/);
    expect(() => makeDataset(images, images, names)).toThrow(/lbls\.idx: expected a 1-dimensional labels file/);
  });
});

describe('subset', () => {
  it('views a contiguous range', () => {
    const { images, labels } = toyIdx(10);
    const part = subset(makeDataset(images, labels, names), 3, 4);
    expect(part.count).toBe(4);
    expect(Array.from(part.labels!)).toEqual([3, 4, 5, 6]);
    expect(Array.from(part.x.subarray(0, 4))).toEqual([3, 3, 3, 3]);
  });

  it('rejects a range past the end', () => {
    const { images, labels } = toyIdx(10);
    expect(() => subset(makeDataset(images, labels, names), 8, 3)).toThrow(/\[8, 11\) is not within the 10/);
  });
});

describe('splitDataset', () => {
  const { images, labels } = toyIdx(100);
  const ds = makeDataset(images, labels, names);
  const imageIds = (part: { x: Uint8Array | Float32Array; count: number }) =>
    Array.from({ length: part.count }, (_, i) => part.x[i * 4]!);

  it('splits by fraction into disjoint parts that cover the data', () => {
    const { train, validation } = splitDataset(ds, 0.2, 1);
    expect(train.count).toBe(80);
    expect(validation.count).toBe(20);
    const all = [...imageIds(train), ...imageIds(validation)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('keeps each image with its label', () => {
    const { train } = splitDataset(ds, 10, 1);
    imageIds(train).forEach((id, i) => expect(train.labels![i]).toBe(id % 10));
  });

  it('splits by count, reproducibly by seed', () => {
    const a = splitDataset(ds, 10, 7);
    expect(a.validation.count).toBe(10);
    expect(imageIds(splitDataset(ds, 10, 7).validation)).toEqual(imageIds(a.validation));
    expect(imageIds(splitDataset(ds, 10, 8).validation)).not.toEqual(imageIds(a.validation));
  });

  it('rejects sizes that are neither a fraction nor a whole count', () => {
    expect(() => splitDataset(ds, 1.5, 1)).toThrow(/validation size 1\.5/);
    expect(() => splitDataset(ds, 101, 1)).toThrow(/validation size 101/);
  });
});

describe('tensorDataset: a dataset from typed arrays, checked before any GPU work', () => {
  it('float features with labels of any number of classes, float targets with their own shape', () => {
    const x = Float32Array.from({ length: 6 * 4 }, (_, i) => i / 10);
    const ds = tensorDataset({ x, sampleShape: [4], labels: Uint32Array.from([0, 300, 2, 1, 999, 5]) });
    expect(ds).toMatchObject({ count: 6, numClasses: 1000, sampleShape: [4] });
    const reg = tensorDataset({ x, sampleShape: [2, 2], targets: new Float32Array(12), targetShape: [2] });
    expect(reg).toMatchObject({ count: 6, targetShape: [2] });
    expect(tensorDataset({ x, sampleShape: [4], targets: new Float32Array(6) }).targetShape).toEqual([1]);
  });

  it('refuses what does not fit, naming the array, the index and the value', () => {
    const x = new Float32Array(12);
    expect(() => tensorDataset({ x, sampleShape: [5], labels: [0, 1] })).toThrow(ShapeError);
    expect(() => tensorDataset({ x, sampleShape: [5], labels: [0, 1] })).toThrow(/12 values, not a whole number of samples of shape \[5\]/);
    expect(() => tensorDataset({ x, sampleShape: [4], labels: [0, 1] }, 'train')).toThrow(/train: 2 labels for 3 samples/);
    expect(() => tensorDataset({ x, sampleShape: [4], labels: [0, 1, 7], numClasses: 5 })).toThrow(/labels\[2\] is 7, outside the 5 classes/);
    expect(() => tensorDataset({ x, sampleShape: [4], labels: [0, -1, 2] })).toThrow(/labels\[1\] is -1/);
    expect(() => tensorDataset({ x, sampleShape: [4], labels: [0, 1.5, 2] })).toThrow(DataFormatError);
    const nan = new Float32Array(12);
    nan[9] = NaN;
    expect(() => tensorDataset({ x: nan, sampleShape: [4], labels: [0, 1, 2] })).toThrow(/x\[9\] is NaN \(sample 2, feature 1\)/);
    const inf = new Float32Array(6);
    inf[4] = Infinity;
    expect(() => tensorDataset({ x, sampleShape: [4], targets: inf })).toThrow(/targets\[4\] is Infinity/);
    expect(() => tensorDataset({ x, sampleShape: [4], targets: new Float32Array(7) })).toThrow(/7 target values do not make 3 samples/);
    expect(() => tensorDataset({ x, sampleShape: [4] })).toThrow(ConfigError);
    expect(() => tensorDataset({ x, sampleShape: [4], labels: [0, 1, 2], targets: new Float32Array(3) })).toThrow(/exactly one of labels/);
    expect(() => tensorDataset({ x: [1, 2] as unknown as Float32Array, sampleShape: [2], labels: [0] })).toThrow(/Float32Array or a Uint8Array/);
  });

  it('selectClasses keeps the given classes, relabelled in order', () => {
    const { images, labels } = toyIdx(30);
    const five = selectClasses(makeDataset(images, labels, names), [5, 6, 7, 8, 9]);
    expect(five.count).toBe(15);
    expect(five.numClasses).toBe(5);
    expect([...five.labels!].slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(five.x[0]).toBe(5);
  });
});

describe('oneHotTargets (the CLI turns MNIST labels into targets for the losses on targets)', () => {
  it('labels become one-hot rows [numClasses]; a dataset with targets is returned as it is', () => {
    const data = tensorDataset({ x: new Float32Array(6), sampleShape: [2], labels: [2, 0, 1], numClasses: 4 });
    const hot = oneHotTargets(data);
    expect(hot.labels).toBeUndefined();
    expect(hot.targetShape).toEqual([4]);
    expect([...hot.targets!]).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect(oneHotTargets(hot)).toBe(hot);
  });
});
