// `--classes LIST` (src/cli/classes.ts): the list's syntax, and both splits narrowed and relabelled by
// selectClasses in the order the list gives.
import { describe, expect, it } from 'vitest';
import { parseClassList, selectDataClasses } from '../../src/cli/classes';
import { InvalidValue } from '../../src/cli/flags';
import { selectClasses, tensorDataset } from '../../src/data/dataset';

const data = (labels: number[], numClasses = 10) =>
  tensorDataset({ x: Float32Array.from(labels, (_, i) => i), sampleShape: [1], labels: Uint8Array.from(labels), numClasses });

const detail = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidValue);
    return (error as InvalidValue).detail;
  }
  throw new Error('accepted');
};

describe('parseClassList', () => {
  it.each([
    ['0-4', [0, 1, 2, 3, 4]],
    ['5,7,9', [5, 7, 9]],
    ['0-2,8', [0, 1, 2, 8]],
    ['9,5', [9, 5]],
    ['3-3,1', [3, 1]],
    [' 1 - 2 , 6', [1, 2, 6]],
  ])('%j', (text, classes) => {
    expect(parseClassList(text)).toEqual({ classes, text });
  });

  it.each([
    ['4-1', 'the range 4-1 runs backwards; write 1-4'],
    ['x', "'x' is not a class number or a range A-B"],
    ['-1,2', "'-1' is not a class number or a range A-B"],
    ['1.5,2', "'1.5' is not a class number or a range A-B"],
    ['1,', 'an empty item in the list'],
    ['0-3,2', 'class 2 is listed twice'],
    ['4', 'a classifier needs at least two classes'],
    ['0-70000', 'more than 65536 classes'],
    ['1,99999999999999999999', "'99999999999999999999' is too large for a class number"],
  ])('%j refused: %s', (text, says) => {
    expect(detail(() => parseClassList(text))).toBe(says);
  });
});

describe('selectDataClasses', () => {
  it('keeps the listed classes of both splits, relabelled in the order given; numClasses is the list length', () => {
    const train = data([0, 5, 7, 9, 5, 1, 9]);
    const test = data([9, 2, 7]);
    const picked = selectDataClasses(train, test, parseClassList('9,5,7'));
    expect(picked.train.numClasses).toBe(3);
    expect(picked.test.numClasses).toBe(3);
    expect(Array.from(picked.train.labels!)).toEqual([1, 2, 0, 1, 0]); // 5 7 9 5 9
    expect(Array.from(picked.train.x)).toEqual([1, 2, 3, 4, 6]); // the samples themselves, in their order
    expect(Array.from(picked.test.labels!)).toEqual([0, 2]);
    expect(picked.train.count).toBe(5);
  });

  it('selectClasses itself relabels 0-4 of MNIST-like labels as 0-4 and 5-9 as 0-4', () => {
    const ds = data([3, 8, 0, 5, 9, 4]);
    expect(Array.from(selectClasses(ds, [0, 1, 2, 3, 4]).labels!)).toEqual([3, 0, 4]);
    expect(Array.from(selectClasses(ds, [5, 6, 7, 8, 9]).labels!)).toEqual([3, 0, 4]);
    expect(selectClasses(ds, [5, 6, 7, 8, 9]).numClasses).toBe(5);
  });

  it('refuses a class outside the data, one missing from the training split, and float targets', () => {
    expect(detail(() => selectDataClasses(data([0, 1]), data([0]), parseClassList('1,10')))).toBe('class 10 is not in the data, whose 10 classes are 0-9');
    expect(detail(() => selectDataClasses(data([0, 1]), data([3]), parseClassList('1,3')))).toBe('the training data has no samples of class 3');
    const targets = tensorDataset({ x: new Float32Array(2), sampleShape: [1], targets: new Float32Array(2) });
    expect(detail(() => selectDataClasses(targets, targets, parseClassList('0,1')))).toBe('the data has float targets, not class labels');
  });
});
