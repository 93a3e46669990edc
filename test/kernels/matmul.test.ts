import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { MATMUL_BLOCK, MATMUL_WG } from '../../src/kernels/lower';
import { activationKinds } from '../../src/graph/ops';
import { expectAllClose, maxAbs } from '../helpers/compare';
import { randomArray, runKernel } from '../helpers/gpu';
import { dotTolerance, matmulActGradTolerance, matmulEpilogueTolerance } from '../tolerances';
import { activateGradRef, activateRef, matmulRef, savedForGrad } from '../helpers/reference';

const tile = MATMUL_BLOCK * MATMUL_WG;
const grid = (m: number, n: number): [number, number, number] => [Math.ceil(n / tile), Math.ceil(m / tile), 1];

// [M, N, K]: 1s, sizes off the 4×4 register block and the 32×32 workgroup tile, the MLP's own shapes,
// and the evaluation batch (1000 rows through the 784 → 128 layer: 32 × 4 workgroups, K = 784).
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [33, 31, 17],
  [127, 129, 65],
  [128, 128, 784],
  [10, 64, 128],
  [1000, 128, 784],
];

describe('matmul kernel vs float64 reference', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const [m, n, k] of shapes) {
        it(`${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'} M=${m} N=${n} K=${k}`, async () => {
          const rng = new Rng(m * 7919 + n * 31 + k + (transA ? 1 : 0) * 2 + (transB ? 1 : 0));
          const a = randomArray(m * k, rng);
          const b = randomArray(k * n, rng);
          const [c] = await runKernel(
            'matmul',
            { TRANS_A: transA, TRANS_B: transB, WG_X: MATMUL_WG, WG_Y: MATMUL_WG },
            [{ data: a }, { data: b }, { data: new Float32Array(4) }, { output: m * n }, { output: 4 }],
            { M: m, N: n, K: k, alpha: 0 },
            grid(m, n),
          );
          expectAllClose(c, matmulRef(a, b, m, n, k, transA, transB), dotTolerance(k), 'C');
        });
      }
    }
  }

  for (const kind of Object.keys(activationKinds).filter((k) => k !== 'identity')) {
    it(`bias + ${kind} epilogue`, async () => {
      const [m, n, k] = [37, 19, 23];
      const rng = new Rng(kind.length);
      const a = randomArray(m * k, rng);
      const w = randomArray(n * k, rng); // stored [N,K], as dense weights are
      const bias = randomArray(n, rng);
      const alpha = kind === 'elu' ? 1 : 0.1;
      const [c] = await runKernel(
        'matmul',
        { TRANS_B: true, BIAS: true, ACT: activationKinds[kind as keyof typeof activationKinds], WG_X: MATMUL_WG, WG_Y: MATMUL_WG },
        [{ data: a }, { data: w }, { data: bias }, { output: m * n }, { output: 4 }],
        { M: m, N: n, K: k, alpha },
        grid(m, n),
      );
      const z = matmulRef(a, w, m, n, k, false, true);
      expectAllClose(c, z.map((v, i) => activateRef(v + bias[i % n], kind, alpha)), matmulEpilogueTolerance(k), 'act(A·Wᵀ + b)');
    });

    it(`activation-gradient epilogue (${kind})`, async () => {
      const [m, n, k] = [29, 13, 11];
      const rng = new Rng(100 + kind.length);
      const dy = randomArray(m * k, rng);
      const w = randomArray(k * n, rng); // dY [M,K] · W [K,N]
      const x = randomArray(m * n, rng, 3);
      const alpha = kind === 'elu' ? 1 : 0.1;
      const y = savedForGrad(x, kind, alpha); // y, or x for GELU/SiLU
      const [c] = await runKernel(
        'matmul',
        { ACT_GRAD: activationKinds[kind as keyof typeof activationKinds], WG_X: MATMUL_WG, WG_Y: MATMUL_WG },
        [{ data: dy }, { data: w }, { data: y }, { output: m * n }, { output: 4 }],
        { M: m, N: n, K: k, alpha },
        grid(m, n),
      );
      const g = matmulRef(dy, w, m, n, k);
      // The kernel differentiates through f32 y (or x); compare with the float64 derivative at x.
      expectAllClose(c, g.map((v, i) => v * activateGradRef(x[i], kind, alpha)), matmulActGradTolerance(k, 1, maxAbs(g)), 'dY·W ⊙ f′');
    });
  }

  it('never writes outside C', async () => {
    const [m, n, k] = [5, 6, 3];
    const rng = new Rng(5);
    const sentinel = new Float32Array(m * n + 64).fill(12345);
    const [c] = await runKernel(
      'matmul',
      { WG_X: MATMUL_WG, WG_Y: MATMUL_WG },
      [{ data: randomArray(m * k, rng) }, { data: randomArray(k * n, rng) }, { data: new Float32Array(4) }, { output: m * n + 64, initial: sentinel }, { output: 4 }],
      { M: m, N: n, K: k, alpha: 0 },
      grid(m, n),
    );
    expect([...c.slice(m * n)].every((v) => v === 12345)).toBe(true);
  });
});
