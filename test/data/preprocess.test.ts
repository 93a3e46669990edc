import { describe, expect, it } from 'vitest';
import { inputAffine, preprocessing } from '../../src/data/preprocess';
import type { Dataset } from '../../src/data/dataset';
import { expectAllClose } from '../helpers/compare';
import { FLOAT64 } from '../tolerances';

// Two samples of three features: feature 2 never changes.
const data: Dataset = { x: Uint8Array.from([0, 51, 102, 255, 153, 102]), labels: new Uint8Array(2), count: 2, sampleShape: [3], numClasses: 10 };
const column = (f: number) => [data.x[f] / 255, data.x[3 + f] / 255];

describe('preprocessing statistics come from the training split, per feature', () => {
  it('scale maps pixels to [0, 1]', () => expect(preprocessing('scale', data)).toEqual({ mean: 0, std: 1 }));
  it('standardize uses each feature\'s mean and standard deviation; a constant feature keeps std 1', () => {
    const n = preprocessing('standardize', data);
    const mean = [0, 1, 2].map((f) => (column(f)[0] + column(f)[1]) / 2);
    const std = [0, 1, 2].map((f) => Math.abs(column(f)[0] - column(f)[1]) / 2 || 1);
    expectAllClose(n.mean as Float32Array, mean, { atol: 0, rtol: 2 ** -23 }, 'mean');
    expectAllClose(n.std as Float32Array, std, { atol: 0, rtol: 2 ** -23 }, 'std');
    // The GPU's affine map turns every training feature into mean 0, std 1 (the constant one into 0).
    const { scale, shift } = inputAffine(n, data.x, 3) as { scale: Float32Array; shift: Float32Array };
    const standardised = [...data.x].map((v, i) => v * scale[i % 3] + shift[i % 3]);
    expectAllClose(standardised, [-1, -1, 0, 1, 1, 0], { atol: 1e-6, rtol: 0 }, 'standardised inputs');
  });
  it('minmax maps each feature\'s smallest value to 0 and its largest to 1', () => {
    const n = preprocessing('minmax', data);
    const { scale, shift } = inputAffine(n, data.x, 3) as { scale: Float32Array; shift: Float32Array };
    expectAllClose([...data.x].map((v, i) => v * scale[i % 3] + shift[i % 3]), [0, 0, 0, 1, 1, 0], { atol: 1e-6, rtol: 0 }, 'scaled');
  });
  it('float inputs are taken as they are (base 1), a given { mean, std } applies to every feature', () => {
    const floats: Dataset = { x: Float32Array.from([1, 2, 3, 5]), targets: new Float32Array(2), targetShape: [1], count: 2, sampleShape: [2] };
    expect(inputAffine(preprocessing('scale', floats), floats.x, 2)).toEqual({ scale: 1, shift: -0 });
    const n = preprocessing('standardize', floats);
    expectAllClose(n.mean as Float32Array, [2, 3.5], FLOAT64, 'mean');
    expect(inputAffine({ mean: 0.5, std: 2 }, data.x, 3)).toEqual({ scale: 1 / 510, shift: -0.25 });
    expect(() => preprocessing({ mean: 0, std: 0 }, data)).toThrow(/std > 0/);
  });
});
