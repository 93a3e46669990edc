import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { activationKinds, derivativeFromInput, type ActivationName } from '../../src/graph/ops';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose } from '../helpers/compare';
import { randomArray, runKernel } from '../helpers/gpu';
import { ACTIVATION, activationGradTolerance } from '../tolerances';
import { activateGradRef, activateRef, savedForGrad } from '../helpers/reference';

const kinds = Object.keys(activationKinds) as ActivationName[];

// 1 and 3: less than one workgroup; 255/257: either side of the 256-wide workgroup; 70000: > 256 workgroups.
const sizes = [1, 3, 255, 257, 1000, 70000];

// Non-default slopes, so a kernel that ignores Params.alpha (or reads the wrong field) cannot pass.
const alphaOf = (kind: ActivationName) => (kind === 'elu' ? 0.7 : kind === 'leaky_relu' ? 0.2 : 0);

/** Beyond tanh's ±15 clamp, and where sigmoid and elu saturate. */
const extremes = [-30, 30, -16, 16, -9.5, 9.5];

/**
 * Inputs spread over [-4, 4] (both branches of every piecewise activation), plus the extremes once there
 * are enough ordinary values: a saturated derivative is ~0 and known only to f32 absolute accuracy, so in
 * a 1- or 3-element vector it would make the relative error meaningless (see the saturation test).
 */
function inputs(n: number, seed: number): Float32Array {
  const x = randomArray(n, new Rng(seed), 4);
  if (n >= 100) extremes.forEach((v, i) => (x[(i * 7919) % n] = v));
  return x;
}

async function forward(kind: ActivationName, x: Float32Array, workgroups = grid1d(x.length, 256)): Promise<Float32Array> {
  const [y] = await runKernel(
    'activationForward',
    { ACT: activationKinds[kind] },
    [{ data: x }, { data: new Float32Array(4) }, { output: x.length }],
    { count: x.length, alpha: alphaOf(kind) },
    workgroups,
  );
  return y as Float32Array;
}

describe('grid1d folds large 1-D launches into a 2-D grid (no GPU)', () => {
  it('stays 1-D up to 65,535 workgroups and never returns 0 workgroups', () => {
    expect(grid1d(0, 256)).toEqual([1, 1, 1]);
    expect(grid1d(1, 256)).toEqual([1, 1, 1]);
    expect(grid1d(257, 256)).toEqual([2, 1, 1]);
    expect(grid1d(65535 * 256, 256)).toEqual([65535, 1, 1]);
  });

  it('past 65,535 workgroups: both dimensions within the limit, enough invocations, little waste', () => {
    for (const wg of [64, 256]) {
      for (const n of [65535 * wg + 1, 65536 * wg, 1e8, 2 ** 31 - 1, 123456789 * 7, 65535 * 65535 * wg]) {
        const [x, y, z] = grid1d(n, wg);
        const groups = Math.ceil(n / wg);
        expect(z).toBe(1);
        expect(x).toBeLessThanOrEqual(65535);
        expect(y).toBeLessThanOrEqual(65535);
        expect(y).toBeGreaterThan(1);
        // The kernels index i = gid.x + gid.y · (x · wg): every i < n must be reached.
        expect(x * y * wg).toBeGreaterThanOrEqual(n);
        // At most one partial row of workgroups is wasted.
        expect(x * y - groups).toBeLessThan(y);
      }
    }
  });
});

describe('activation kernels vs float64 reference', () => {
  for (const kind of kinds) {
    for (const n of sizes) {
      it(`forward ${kind} n=${n}`, async () => {
        const x = inputs(n, n * 13 + activationKinds[kind]);
        const y = await forward(kind, x);
        expectAllClose(y, Array.from(x, (v) => activateRef(v, kind, alphaOf(kind))), ACTIVATION, `${kind}(x)`);
      });

      it(`backward ${kind} n=${n}`, async () => {
        const rng = new Rng(n * 17 + activationKinds[kind]);
        const x = inputs(n, n * 29 + activationKinds[kind]);
        const dy = randomArray(n, rng, 2);
        const alpha = alphaOf(kind);
        // The kernel sees only y (the forward output, in f32), or x for GELU/SiLU, as in training.
        const y = savedForGrad(x, kind, alpha);
        const [dx] = await runKernel(
          'activationBackward',
          { ACT: activationKinds[kind] },
          [{ data: dy }, { data: y }, { output: n }],
          { count: n, alpha },
          grid1d(n, 256),
        );
        // Compared with the float64 derivative at x: for sigmoid/tanh/elu/selu the from-y formula
        // inherits y's f32 error (see activationGradTolerance).
        expectAllClose(dx, Array.from(x, (v, i) => dy[i] * activateGradRef(v, kind, alpha)), activationGradTolerance(2), `dy·${kind}′(x)`);
      });
    }
  }

  // The shader's 2-D index math (gid.x + gid.y · groups.x · 256) at a size SwiftShader can run: force
  // the fold grid1d would only choose past 65,535 workgroups, including a y that leaves the last row partial.
  for (const workgroups of [
    [137, 2, 1],
    [100, 3, 1],
    [1, 274, 1],
  ] as [number, number, number][]) {
    it(`forward relu and selu over a ${workgroups.join('×')} grid cover all 70000 elements`, async () => {
      const n = 70000;
      for (const kind of ['relu', 'selu'] as const) {
        const x = inputs(n, 5 + workgroups[1]);
        const y = await forward(kind, x, workgroups);
        expectAllClose(y, Array.from(x, (v) => activateRef(v, kind, alphaOf(kind))), ACTIVATION, `${kind}(x) over ${workgroups.join('×')}`);
      }
    });
  }

  it('saturated inputs: forward matches, backward derivative is ~0 and finite', async () => {
    const x = Float32Array.from(extremes);
    for (const kind of kinds) {
      const alpha = alphaOf(kind);
      const y = await forward(kind, x);
      expectAllClose(y, Array.from(x, (v) => activateRef(v, kind, alpha)), ACTIVATION, `${kind}(x) saturated`);
      const dy = new Float32Array(x.length).fill(1);
      const saved = derivativeFromInput(kind) ? x : y;
      const [dx] = await runKernel('activationBackward', { ACT: activationKinds[kind] }, [{ data: dy }, { data: saved }, { output: x.length }], { count: x.length, alpha }, [1, 1, 1]);
      // Through f32 y the derivative in a saturated region is known only to y's absolute error (e.g. 1 − y²
      // with y = ±1, or y + alpha with y ≈ −alpha): activationGradTolerance's absolute part, dy = 1.
      expectAllClose(dx, Array.from(x, (v) => activateGradRef(v, kind, alpha)), activationGradTolerance(1), `${kind}′ at ${extremes.join(', ')}`);
    }
  });

  it('writes nothing past count', async () => {
    const n = 257;
    const x = inputs(n + 64, 3);
    const sentinel = new Float32Array(n + 64).fill(777);
    // Two workgroups (512 invocations) over a 321-element buffer whose first 257 are the tensor.
    const [y] = await runKernel(
      'activationForward',
      { ACT: activationKinds.tanh },
      [{ data: x }, { data: new Float32Array(4) }, { output: n + 64, initial: sentinel }],
      { count: n, alpha: 0 },
      grid1d(n, 256),
    );
    expect([...y.slice(n)].every((v) => v === 777)).toBe(true);
    expectAllClose(y.slice(0, n), Array.from(x.slice(0, n), (v) => Math.tanh(v)), ACTIVATION, 'tanh(x)');
  });
});
