/**
 * Every matmul variant of the one list (src/kernels/matmul_variants.ts) against the float64 reference: the
 * shapes of matmul.test.ts plus shapes that suit the vec4 kernels and lie off every block and tile size,
 * every transpose combination the variant supports, both epilogues, outputs (and split-K scratch) poisoned,
 * nothing written outside C. The list drives the catalog and the generator: both are checked against it.
 * The tiled and split-K kernels at the MLP's shapes and at 4096³ are in matmul_tiled.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { activationKinds } from '../../src/graph/ops';
import { kernels } from '../../src/kernels/catalog';
import { REFERENCE_MATMUL, blockKernelName, matmulBlockSizes, matmulKernelNames, matmulVariantSpecs, matmulVariants, type MatmulVariant } from '../../src/kernels/matmul_variants';
import { shaderFiles } from '../../src/kernels/shaders';
import { expectAllClose } from '../helpers/compare';
import { randomArray, testGpu } from '../helpers/gpu';
import { runMatmulVariant } from '../helpers/matmul';
import { activateGradRef, activateRef, matmulRef, savedForGrad } from '../helpers/reference';
import { dotTolerance, epilogueTolerance } from '../tolerances';
import { CPU_SPLIT, splitForAdapter } from '../../src/kernels/reduction_split';

// [M, N, K]: matmul.test.ts's shapes (1s, sizes off every block and tile, the MLP's), N = 10 and K = 10 as
// in the MLP's last layer, and shapes with N, K (and M) multiples of 4 so the vec4 variants run too, off
// every block size and off the tiled kernels' 64×64 / 128×64 tiles and 8-deep K tiles.
const allShapes: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [33, 31, 17],
  [127, 129, 65],
  [128, 128, 784],
  [10, 64, 128],
  [64, 10, 64],
  [64, 64, 10],
  [10, 64, 64],
  [4, 4, 4],
  [36, 20, 12],
  [44, 132, 68],
  [132, 68, 44],
  [128, 784, 64],
  [64, 128, 784],
];

// On a CPU implementation of WebGPU each pipeline costs about a second to compile and the big products
// seconds to run, so there the sweep keeps the off-tile, vec4-friendly and MLP shapes that exercise every
// code path (edges, partial tiles, K = 10) and drops repeats; WEBGRAD_FULL_TESTS=1 or a GPU runs them all.
const { gpu: sweepGpu } = await testGpu();
const fullSweep = process.env.WEBGRAD_FULL_TESTS === '1' || splitForAdapter(sweepGpu.adapterName) !== CPU_SPLIT;
const CPU_SHAPES = new Set(['1,1,1', '3,5,7', '33,31,17', '64,64,10', '36,20,12', '44,132,68', '128,128,784']);
const shapes = fullSweep ? allShapes : allShapes.filter((s) => CPU_SHAPES.has(s.join()));

const combos = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
  { transA: true, transB: true },
];
const opName = ({ transA, transB }: (typeof combos)[number]) => `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;

/**
 * Epilogue activations per variant: every kind for the first variant of each distinct epilogue
 * implementation (scalar in matmul.wgsl and matmul_vec4k, vec4 in matmul_vec4n, the generated blocks, the
 * tiled kernel and the split-K sum), two kinds elsewhere: each kind is another pipeline, and big blocks
 * compile slowly on SwiftShader.
 */
const allKinds = Object.keys(activationKinds).filter((x) => x !== 'identity');
const fullEpilogue = new Set(['matmul@8x8', 'matmulVec4k@8x8', 'matmulVec4n@8x8', 'matmulV4x4@8x8', 'matmulTiled+TILE_M=64@16x16', 'matmulTiled+TILE_M=64+SPLIT_K=2@16x16']);
const epilogueKinds = (v: MatmulVariant) => ((fullSweep ? fullEpilogue.has(v.id) : v.id === 'matmul@8x8') ? allKinds : ['relu', 'sigmoid']);

describe('the variant list drives the catalog and the generator', () => {
  it('every variant has a catalog kernel with the family\'s Params, and every id is unique', () => {
    for (const kernel of matmulKernelNames) {
      expect(kernels[kernel], kernel).toBeDefined();
      expect(kernels[kernel].params).toBe(kernels.matmul.params);
      expect(kernels[kernel].files.slice(0, 2)).toEqual(['act_fns.wgsl', 'matmul_common.wgsl']);
    }
    expect(new Set(matmulVariants.map((v) => v.id)).size).toBe(matmulVariants.length);
    expect(matmulVariants).toHaveLength(matmulVariantSpecs.length);
    expect(REFERENCE_MATMUL).toMatchObject({ kernel: 'matmul', workgroup: [8, 8], splitK: 1 });
  });

  it('one generated entry point per block size of the list, and no stale matmul files', () => {
    const source = shaderFiles['matmul_blocks.wgsl'];
    const entryPoints = [...source.matchAll(/@compute[^{]*?\bfn\s+(\w+)/g)].map((m) => m[1]);
    expect(entryPoints).toEqual(matmulBlockSizes.map(([r, c]) => `main_${r}x${c}`));
    for (const block of matmulBlockSizes) expect(kernels[blockKernelName(block)].entryPoint).toBe(`main_${block[0]}x${block[1]}`);
    // The Params struct and the constants live only in matmul_common.wgsl.
    for (const [file, text] of Object.entries(shaderFiles).filter(([f]) => f.startsWith('matmul'))) {
      const declares = /struct\s+Params|override\s+TRANS_A/.test(text);
      expect(declares, file).toBe(file === 'matmul_common.wgsl');
    }
  });

  it('shaders/matmul_blocks.wgsl is up to date with scripts/gen_matmul_blocks.mjs and the list', () => {
    expect(() => execFileSync(process.execPath, ['scripts/gen_matmul_blocks.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('matmul variants vs float64 reference', () => {
  for (const v of matmulVariants) {
    describe(v.id, () => {
      for (const flags of combos) {
        const fitting = shapes.filter(([M, N, K]) => v.fits({ M, N, K }, flags));
        if (!fitting.length) continue;
        it(`${opName(flags)} at ${fitting.map((s) => s.join('×')).join(', ')}`, async () => {
          for (const [m, n, k] of fitting) {
            const rng = new Rng(m * 7919 + n * 31 + k + (flags.transA ? 2 : 0) + (flags.transB ? 1 : 0));
            const a = randomArray(m * k, rng);
            const b = randomArray(k * n, rng);
            const c = await runMatmulVariant(v, { M: m, N: n, K: k }, a, b, flags);
            expectAllClose(c, matmulRef(a, b, m, n, k, flags.transA, flags.transB), dotTolerance(k), `${v.id} ${opName(flags)} ${m}×${n}×${k}`);
          }
        });
      }

      const biasShape = { M: 37, N: 20, K: 24 };
      const fwd = { transA: false, transB: true };
      if (v.fits(biasShape, fwd)) {
        it(`bias + ${epilogueKinds(v).join(', ')} (A·Bᵀ, as the forward pass)`, async () => {
          const { M: m, N: n, K: k } = biasShape;
          for (const kind of epilogueKinds(v)) {
            const rng = new Rng(kind.length);
            const a = randomArray(m * k, rng);
            const w = randomArray(n * k, rng);
            const bias = randomArray(n, rng);
            const alpha = kind === 'elu' ? 1 : 0.1;
            const act = activationKinds[kind as keyof typeof activationKinds];
            const c = await runMatmulVariant(v, biasShape, a, w, { ...fwd, bias, act, alpha });
            const z = matmulRef(a, w, m, n, k, false, true);
            expectAllClose(c, z.map((x, i) => activateRef(x + bias[i % n], kind, alpha)), epilogueTolerance(k), `${v.id} bias + ${kind}`);
          }
        });
      }

      const gradShape = { M: 29, N: 12, K: 8 };
      const bwd = { transA: false, transB: false };
      if (v.fits(gradShape, bwd)) {
        it(`activation-gradient epilogue: ${epilogueKinds(v).join(', ')} (A·B, as dY·W)`, async () => {
          const { M: m, N: n, K: k } = gradShape;
          for (const kind of epilogueKinds(v)) {
            const rng = new Rng(100 + kind.length);
            const dy = randomArray(m * k, rng);
            const w = randomArray(k * n, rng);
            const x = randomArray(m * n, rng, 3);
            const alpha = kind === 'elu' ? 1 : 0.1;
            const y = savedForGrad(x, kind, alpha); // y, or x itself for GELU/SiLU (their derivative reads the input)
            const actGrad = activationKinds[kind as keyof typeof activationKinds];
            const c = await runMatmulVariant(v, gradShape, dy, w, { ...bwd, y, actGrad, alpha });
            const g = matmulRef(dy, w, m, n, k);
            expectAllClose(c, g.map((t, i) => t * activateGradRef(x[i], kind, alpha)), epilogueTolerance(k), `${v.id} grad ${kind}`);
          }
        });
      }

      // BIAS_GRAD (dW = dYᵀ·X with db = dY's column sums): the MLP's three layers, M off every vec4 and block
      // size, one row, and K = 1 and 7 (the batch); C's and D's tails must stay untouched.
      const biasGradShapes = (fullSweep ? [[128, 784, 64], [64, 128, 64], [10, 64, 64], [12, 20, 7], [10, 36, 5], [1, 4, 1], [132, 68, 44]] : [[10, 64, 64], [12, 20, 7], [10, 36, 5], [1, 4, 1], [36, 20, 12]]).filter(
        ([M, N, K]) => v.fits({ M, N, K }, { transA: true, transB: false, biasGrad: true }),
      );
      if (biasGradShapes.length) {
        it(`bias-gradient epilogue (Aᵀ·B, as dW = dYᵀ·X and db) at ${biasGradShapes.map((s) => s.join('×')).join(', ')}`, async () => {
          for (const [m, n, k] of biasGradShapes) {
            const rng = new Rng(m * 13 + n * 7 + k);
            const dy = randomArray(k * m, rng);
            const x = randomArray(k * n, rng);
            const tail = 8;
            const out = await runMatmulVariant(v, { M: m, N: n, K: k }, dy, x, { transA: true, biasGrad: true }, tail);
            const what = `${v.id} ${m}×${n}×${k}`;
            expectAllClose(out.slice(0, m * n), matmulRef(dy, x, m, n, k, true, false), dotTolerance(k), `${what} dW`);
            const db = Array.from({ length: m }, (_, j) => {
              let s = 0;
              for (let r = 0; r < k; r++) s += dy[r * m + j];
              return s;
            });
            const d = out.slice(m * n + tail, m * n + tail + m);
            expectAllClose(d, Float64Array.from(db), dotTolerance(k), `${what} db`);
            expect([...out.slice(m * n, m * n + tail), ...out.slice(m * n + tail + m)].every((x) => x === 12345), `${what} tails`).toBe(true);
          }
        });
      }

      it('never writes outside C', async () => {
        let checked = 0;
        for (const flags of combos) {
          const shape = { M: 20, N: 12, K: 8 };
          if (!v.fits(shape, flags)) continue;
          const rng = new Rng(5);
          const c = await runMatmulVariant(v, shape, randomArray(160, rng), randomArray(96, rng), flags, 64);
          expect([...c.slice(240)].every((x) => x === 12345), opName(flags)).toBe(true);
          expect(c.slice(0, 240).every(Number.isFinite), opName(flags)).toBe(true);
          checked++;
        }
        expect(checked).toBeGreaterThan(0);
      });
    });
  }

  it('on SwiftShader every single-pass variant is bitwise identical to the reference (same summation order, no fused multiply-add); split-K is deterministic but sums in another order', async (context) => {
    const { gpu } = await testGpu();
    if (!/swiftshader/i.test(gpu.adapterName)) context.skip();
    for (const [flags, [m, n, k]] of [
      [combos[1], [64, 128, 784]],
      [combos[2], [128, 784, 64]],
      [combos[0], [64, 128, 64]],
    ] as const) {
      const rng = new Rng(m + n + k);
      const a = randomArray(m * k, rng);
      const b = randomArray(k * n, rng);
      const shape = { M: m, N: n, K: k };
      const expected = await runMatmulVariant(REFERENCE_MATMUL, shape, a, b, flags);
      for (const v of matmulVariants.filter((x) => x.fits(shape, flags))) {
        const c = await runMatmulVariant(v, shape, a, b, flags);
        if (v.splitK === 1) {
          expect(c.every((x, i) => x === expected[i]), `${v.id} ${opName(flags)}`).toBe(true);
        } else {
          const again = await runMatmulVariant(v, shape, a, b, flags);
          expect(again.every((x, i) => x === c[i]), `${v.id} ${opName(flags)} run to run`).toBe(true);
        }
      }
    }
  });
});
