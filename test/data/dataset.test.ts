import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import { makeDataset, splitDataset, subset } from '../../src/data/dataset';
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
    expect(ds).toMatchObject({ count: 5, rows: 2, cols: 2, numClasses: 10 });
    expect(ds.images.length).toBe(20);
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
    expect(Array.from(part.labels)).toEqual([3, 4, 5, 6]);
    expect(Array.from(part.images.subarray(0, 4))).toEqual([3, 3, 3, 3]);
  });

  it('rejects a range past the end', () => {
    const { images, labels } = toyIdx(10);
    expect(() => subset(makeDataset(images, labels, names), 8, 3)).toThrow(/\[8, 11\) is not within the 10/);
  });
});

describe('splitDataset', () => {
  const { images, labels } = toyIdx(100);
  const ds = makeDataset(images, labels, names);
  const imageIds = (part: { images: Uint8Array; count: number }) =>
    Array.from({ length: part.count }, (_, i) => part.images[i * 4]!);

  it('splits by fraction into disjoint parts that cover the data', () => {
    const { train, validation } = splitDataset(ds, 0.2, 1);
    expect(train.count).toBe(80);
    expect(validation.count).toBe(20);
    const all = [...imageIds(train), ...imageIds(validation)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('keeps each image with its label', () => {
    const { train } = splitDataset(ds, 10, 1);
    imageIds(train).forEach((id, i) => expect(train.labels[i]).toBe(id % 10));
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
