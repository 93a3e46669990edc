/**
 * The 128×64-tiled matmul at 4096×4096×4096, once: 137 GFLOP, about 4 minutes on SwiftShader (2 CPU
 * cores), milliseconds on a GPU. C is checked against float64 on a random sample of 4,096 elements (each
 * a dot product of length 4,096), which keeps the CPU reference cheap; the whole of C must be finite.
 * On a CPU implementation of WebGPU it runs only with WEBGRAD_LARGE_TESTS=1 (a fifth of CI's time budget
 * otherwise); the tiles it checks are the same at the off-tile and MLP sizes of matmul_tiled.test.ts.
 */
import { expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { matmulVariants } from '../../src/kernels/matmul_variants';
import { compareElementwise, describeComparison } from '../helpers/compare';
import { randomArray, testGpu } from '../helpers/gpu';
import { CPU_SPLIT, splitForAdapter } from '../../src/kernels/reduction_split';
import { runMatmulVariant } from '../helpers/matmul';
import { dotTolerance } from '../tolerances';

const { gpu } = await testGpu();
const cpuAdapter = splitForAdapter(gpu.adapterName) === CPU_SPLIT;

it.runIf(!cpuAdapter || process.env.WEBGRAD_LARGE_TESTS === '1')('matmulTiled (128×64 tiles) at 4096×4096×4096, A·B, against float64 on 4,096 sampled elements', { timeout: 1_800_000 }, async () => {
  const n = 4096;
  const variant = matmulVariants.find((v) => v.id === 'matmulTiled+TILE_M=128@16x16')!;
  const rng = new Rng(4096);
  const a = randomArray(n * n, rng);
  const b = randomArray(n * n, rng);
  const c = await runMatmulVariant(variant, { M: n, N: n, K: n }, a, b);
  expect(c.every(Number.isFinite), 'every element written and finite').toBe(true);
  const picks = Array.from({ length: 4096 }, () => Math.floor(rng.nextFloat() * n * n));
  const expected = picks.map((index) => {
    const [i, j] = [Math.floor(index / n), index % n];
    let sum = 0;
    for (let k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
    return sum;
  });
  const tolerance = dotTolerance(n);
  const comparison = compareElementwise(picks.map((index) => c[index]), expected, tolerance);
  expect(comparison.ok, describeComparison(comparison, tolerance, 'sampled C')).toBe(true);
});
