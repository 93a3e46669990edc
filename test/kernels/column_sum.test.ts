import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose } from '../helpers/compare';
import { randomArray, runKernel } from '../helpers/gpu';
import { sumTolerance, uniformRms } from '../tolerances';
import { columnSumRef } from '../helpers/reference';

// (rows, cols): scalars; a single column (one live thread); cols either side of the 64-wide workgroup
// (63, 65) and several workgroups (130); long columns (3000 rows: the bias gradient of a big batch).
const shapes: [number, number][] = [
  [1, 1],
  [7, 1],
  [3, 5],
  [128, 10],
  [257, 63],
  [33, 65],
  [100, 130],
  [3000, 3],
];

async function columnSum(x: Float32Array, rows: number, cols: number, out: { output: number; initial?: Float32Array } = { output: cols }) {
  const [sums] = await runKernel('columnSum', {}, [{ data: x }, out], { rows, cols }, grid1d(cols, 64));
  return sums as Float32Array;
}

describe('column_sum kernel vs float64 reference', () => {
  for (const [rows, cols] of shapes) {
    it(`rows=${rows} cols=${cols}`, async () => {
      const x = randomArray(rows * cols, new Rng(rows * 1009 + cols));
      expectAllClose(await columnSum(x, rows, cols), columnSumRef(x, rows, cols), sumTolerance(rows, uniformRms(1)), 'column sums');
    });
  }

  it('sums with one sign (no cancellation to hide a dropped row)', async () => {
    const [rows, cols] = [513, 9];
    const x = Float32Array.from(randomArray(rows * cols, new Rng(2)), Math.abs);
    const sums = await columnSum(x, rows, cols);
    expectAllClose(sums, columnSumRef(x, rows, cols), sumTolerance(rows, uniformRms(1)), 'column sums of |x|');
  });

  it('writes nothing past cols', async () => {
    const [rows, cols] = [4, 5];
    const x = randomArray(rows * cols, new Rng(3));
    const sums = await columnSum(x, rows, cols, { output: cols + 64, initial: new Float32Array(cols + 64).fill(42) });
    expect([...sums.slice(cols)].every((v) => v === 42)).toBe(true);
    expectAllClose(sums.slice(0, cols), columnSumRef(x, rows, cols), sumTolerance(rows, uniformRms(1)), 'column sums');
  });
});
