import { describe, expect, it } from 'vitest';
import { preprocessing } from '../../src/data/preprocess';
import type { Dataset } from '../../src/data/dataset';
import { expectValueClose } from '../helpers/compare';
import { FLOAT64 } from '../tolerances';

const data: Dataset = { images: Uint8Array.from([0, 51, 102, 255, 51, 102]), labels: new Uint8Array(2), count: 2, rows: 1, cols: 3, numClasses: 10 };

describe('preprocessing statistics come from the training split', () => {
  it('scale maps pixels to [0, 1]', () => expect(preprocessing('scale', data)).toEqual({ mean: 0, std: 1 }));
  it('standardize uses the pixels mean and standard deviation', () => {
    const values = [...data.images].map((v) => v / 255);
    const mean = values.reduce((a, b) => a + b) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const n = preprocessing('standardize', data);
    expectValueClose(n.mean!, mean, FLOAT64, 'mean');
    expectValueClose(n.std!, std, FLOAT64, 'std');
  });
  it('minmax maps the smallest pixel to 0 and the largest to 1', () => {
    const n = preprocessing('minmax', { ...data, images: Uint8Array.from([10, 20, 30]) });
    expectValueClose((10 / 255 - n.mean!) / n.std!, 0, FLOAT64, 'smallest pixel');
    expectValueClose((30 / 255 - n.mean!) / n.std!, 1, FLOAT64, 'largest pixel');
  });
});
