/**
 * The workgroup-tiled matmul (64×64 and 128×64 tiles) and its split-K form against float64, at every
 * product of the 784-128-64-10 MLP's training step and evaluation at batch 128 and 1000 (with the
 * epilogues the fused plan gives them) and at sizes off the tiles; split-K's partials are poisoned first.
 * The 4096³ case is in matmul_large.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { activationKinds } from '../../src/graph/ops';
import { matmulVariants, type MatmulShape } from '../../src/kernels/matmul_variants';
import { expectAllClose } from '../helpers/compare';
import { randomArray } from '../helpers/gpu';
import { runMatmulVariant, type MatmulFlagsAndEpilogue } from '../helpers/matmul';
import { activateGradRef, activateRef, matmulRef } from '../helpers/reference';
import { dotTolerance, epilogueTolerance } from '../tolerances';

const tiled = matmulVariants.filter((v) => v.family === 'tiled');
const RELU = activationKinds.relu;

interface Product {
  name: string;
  shape: MatmulShape;
  flags: { transA: boolean; transB: boolean };
  /** 'bias-relu' | 'bias' (forward), 'relu-grad' (dX through the previous layer's ReLU), 'none' (dW). */
  epilogue: 'bias-relu' | 'bias' | 'relu-grad' | 'none';
}

/** The step's products of 784-128-64-10 at batch B: X·Wᵀ per layer, dY·W where a gradient flows on, dYᵀ·X. */
function mlpProducts(B: number): Product[] {
  const layers = [784, 128, 64, 10];
  const products: Product[] = [];
  for (let l = 0; l < 3; l++) {
    const [fin, fout] = [layers[l], layers[l + 1]];
    products.push({ name: `fwd${l + 1} X·Wᵀ`, shape: { M: B, N: fout, K: fin }, flags: { transA: false, transB: true }, epilogue: l < 2 ? 'bias-relu' : 'bias' });
    if (l > 0) products.push({ name: `dX${l + 1} dY·W`, shape: { M: B, N: fin, K: fout }, flags: { transA: false, transB: false }, epilogue: 'relu-grad' });
    products.push({ name: `dW${l + 1} dYᵀ·X`, shape: { M: fout, N: fin, K: B }, flags: { transA: true, transB: false }, epilogue: 'none' });
  }
  return products;
}

async function check(product: Product, variants = tiled): Promise<number> {
  const { shape, flags, epilogue } = product;
  const { M, N, K } = shape;
  const rng = new Rng(M * 31 + N * 7 + K);
  const a = randomArray(M * K, rng);
  const b = randomArray(K * N, rng);
  const options: MatmulFlagsAndEpilogue = { ...flags };
  let expected = matmulRef(a, b, M, N, K, flags.transA, flags.transB);
  if (epilogue === 'bias-relu' || epilogue === 'bias') {
    const bias = randomArray(N, rng);
    const relu = epilogue === 'bias-relu';
    Object.assign(options, { bias, act: relu ? RELU : 0 });
    expected = expected.map((z, i) => (relu ? activateRef(z + bias[i % N], 'relu') : z + bias[i % N]));
  } else if (epilogue === 'relu-grad') {
    const x = randomArray(M * N, rng, 3);
    const y = Float32Array.from(x, (t) => activateRef(t, 'relu'));
    Object.assign(options, { y, actGrad: RELU });
    expected = expected.map((g, i) => g * activateGradRef(x[i], 'relu'));
  }
  let ran = 0;
  for (const v of variants.filter((x) => x.fits(shape, flags))) {
    const c = await runMatmulVariant(v, shape, a, b, options);
    expectAllClose(c, expected, epilogue === 'none' ? dotTolerance(K) : epilogueTolerance(K), `${v.id} ${product.name} ${M}×${N}×${K}`);
    ran++;
  }
  return ran;
}

describe('tiled and split-K matmuls at the MLP 784-128-64-10', () => {
  for (const B of [128, 1000]) {
    for (const product of mlpProducts(B)) {
      const { M, N, K } = product.shape;
      it(`batch ${B}: ${product.name} ${M}×${N}×${K} (${product.epilogue})`, async () => {
        const ran = await check(product);
        // Layer 3 (N = 10 or K = 10 along a vec4 dimension) is the only one the tiled kernel cannot take.
        const fits = !/3/.test(product.name);
        expect(ran, 'variants run').toBe(fits ? tiled.length : 0);
      });
    }
  }
});

describe('tiled and split-K matmuls at sizes off the tiles', () => {
  // M and N off the 64/128-row and 64-column tiles, K off the 8-deep K tiles, and single rows or columns.
  const shapes: MatmulShape[] = [
    { M: 1, N: 4, K: 4 },
    { M: 4, N: 4, K: 1 },
    { M: 5, N: 12, K: 8 },
    { M: 65, N: 68, K: 36 },
    { M: 129, N: 196, K: 100 },
    { M: 132, N: 260, K: 20 },
  ];
  for (const shape of shapes) {
    it(`${shape.M}×${shape.N}×${shape.K}, every transpose combination that fits`, async () => {
      let ran = 0;
      for (const transA of [false, true]) {
        for (const transB of [false, true]) ran += await check({ name: `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`, shape, flags: { transA, transB }, epilogue: 'none' });
      }
      expect(ran).toBeGreaterThan(0);
    });
  }
});
