import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { expectAllClose } from '../helpers/compare';
import { grid1d } from '../../src/kernels/kernel';
import { randomArray, runKernel } from '../helpers/gpu';
import { runColumnSum as columnSum } from '../helpers/reduction_runs';
import { SPLITS } from '../helpers/run_node';
import { sumTolerance, uniformRms } from '../tolerances';
import { columnSumRef } from '../helpers/reference';

// (rows, cols): scalars; a single column (one live thread); cols either side of the 64-wide workgroup
// (63, 65) and several workgroups (130); long columns (3000 rows: the bias gradient of a big batch, 12
// chunks of 256 rows under the GPU split, the last one short; 40,000 rows, where one thread per column was
// the bottleneck).
const shapes: [number, number][] = [
  [1, 1],
  [7, 1],
  [3, 5],
  [128, 10],
  [257, 63],
  [33, 65],
  [100, 130],
  [3000, 3],
  [40000, 2],
];

describe('column_sum kernel vs float64 reference', () => {
  it('the GPU split sums past 256 rows in chunks and a partial_sum pass; the CPU split in one pass', async () => {
    const x = randomArray(600 * 3, new Rng(1));
    expect(await Promise.all(SPLITS.map(async ([, split]) => (await columnSum(x, 600, 3, split)).dispatches))).toEqual([2, 1]);
  });

  for (const [splitName, split] of SPLITS) {
    for (const [rows, cols] of shapes) {
      it(`${splitName} split: rows=${rows} cols=${cols}`, async () => {
        const x = randomArray(rows * cols, new Rng(rows * 1009 + cols));
        expectAllClose((await columnSum(x, rows, cols, split)).sums, columnSumRef(x, rows, cols), sumTolerance(rows, uniformRms(1)), 'column sums');
      });
    }

    it(`${splitName} split: sums with one sign (no cancellation to hide a dropped row)`, async () => {
      const [rows, cols] = [513, 9];
      const x = Float32Array.from(randomArray(rows * cols, new Rng(2)), Math.abs);
      const { sums } = await columnSum(x, rows, cols, split);
      expectAllClose(sums, columnSumRef(x, rows, cols), sumTolerance(rows, uniformRms(1)), 'column sums of |x|');
    });
  }

  it('writes nothing past cols (the kernel itself, into a longer buffer)', async () => {
    const [rows, cols] = [4, 5];
    const x = randomArray(rows * cols, new Rng(3));
    const [sums] = await runKernel('columnSum', {}, [{ data: x }, { output: cols + 64, initial: new Float32Array(cols + 64).fill(42) }], { rows, cols, chunk_rows: rows }, grid1d(cols, 64));
    expect([...sums.slice(cols)].every((v) => v === 42)).toBe(true);
    expectAllClose(sums.slice(0, cols) as Float32Array, columnSumRef(x, rows, cols), sumTolerance(rows, uniformRms(1)), 'column sums');
  });
});
