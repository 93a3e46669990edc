// The dropout kernels: the mask against an independent TypeScript port of the hash, its statistics
// (binomial kept fraction, preserved expectation, no correlation between neighbours, fresh masks per step,
// seed and layer) and the backward pass regenerating exactly the forward mask.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { ConfigError } from '../../src/errors';
import { activationKinds } from '../../src/graph/ops';
import { Graph } from '../../src/graph/graph';
import { grid1d } from '../../src/kernels/kernel';
import { dropoutParams } from '../../src/kernels/lower';
import { validateMlp } from '../../src/nn/mlp';
import { expectAllClose } from '../helpers/compare';
import { randomArray, runKernel, stepArg } from '../helpers/gpu';
import { DROPOUT, activationGradTolerance, plus } from '../tolerances';
import { activateGradRef, dropoutMaskRef, savedForGrad } from '../helpers/reference';

interface Run {
  rate: number;
  seed?: number;
  step?: number;
  salt?: number;
}

const stepUniform = (seed: number, step: number) => (stepArg({ step, batch_start: 0, seed, mix_lambda: 0, lr: 0 }));

async function dropout(direction: 'forward' | 'backward', x: Float32Array, { rate, seed = 7, step = 3, salt = 1 }: Run, act?: { kind: keyof typeof activationKinds; y: Float32Array; alpha: number }) {
  const n = x.length;
  const [out] = await runKernel(
    direction === 'forward' ? 'dropoutForward' : 'dropoutBackward',
    { ACT_GRAD: act ? activationKinds[act.kind] : 0 },
    [{ data: x }, { data: act?.y ?? new Float32Array(4) }, { output: n }, stepUniform(seed, step)],
    dropoutParams(n, rate, salt, act?.alpha ?? 0),
    grid1d(n, 256),
  );
  return out as Float32Array;
}

const ones = (n: number) => new Float32Array(n).fill(1);
const keptFraction = (y: Float32Array) => y.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0) / y.length;

describe('dropout kernel', () => {
  for (const n of [1, 3, 255, 257, 70001]) {
    for (const rate of [0.2, 0.5]) {
      it(`forward matches the reference mask exactly, n=${n} rate=${rate}`, async () => {
        const x = randomArray(n, new Rng(n), 3);
        const y = await dropout('forward', x, { rate, seed: 11, step: n, salt: 2 });
        const mask = dropoutMaskRef(n, rate, 11, n, 2);
        expectAllClose(y, Float64Array.from(x, (v, i) => v * mask[i]), DROPOUT, 'x ⊙ mask');
      });
    }
  }

  for (const rate of [0.1, 0.2, 0.5, 0.9]) {
    it(`keeps a binomial 1 − p of the elements and preserves the mean, rate=${rate}`, async () => {
      const n = 200_000;
      const x = Float32Array.from(randomArray(n, new Rng(5)), (v) => 1 + 0.5 * v); // in [0.5, 1.5]
      const y = await dropout('forward', x, { rate });
      const kept = keptFraction(y) * n;
      // 5σ of Binomial(n, 1 − p).
      expect(Math.abs(kept - n * (1 - rate))).toBeLessThan(5 * Math.sqrt(n * rate * (1 - rate)));
      // E[y_i] = x_i; Var[y_i] = x_i²·p/(1 − p), so the mean of y is within 5σ of the mean of x.
      const meanX = x.reduce((s, v) => s + v, 0) / n;
      const meanY = y.reduce((s, v) => s + v, 0) / n;
      const sigma = Math.sqrt(x.reduce((s, v) => s + v * v, 0) * (rate / (1 - rate))) / n;
      expect(Math.abs(meanY - meanX)).toBeLessThan(5 * sigma);
      // Kept values are exactly x / (1 − p).
      const keptValues = Float64Array.from(y, (v, i) => (v !== 0 ? x[i] / (1 - rate) : 0));
      expectAllClose(y, keptValues, DROPOUT, 'kept values x / (1 − p)');
    });
  }

  it('neighbouring elements are independent', async () => {
    const n = 200_000;
    const rate = 0.5;
    const y = await dropout('forward', ones(n), { rate });
    let both = 0;
    for (let i = 0; i + 1 < n; i++) if (y[i] !== 0 && y[i + 1] !== 0) both++;
    const q = (1 - rate) ** 2; // P(both kept) if independent
    expect(Math.abs(both - (n - 1) * q)).toBeLessThan(5 * Math.sqrt((n - 1) * q * (1 - q)));
  });

  it('same seed and step give the same mask; another step, seed or layer salt a different one', async () => {
    const n = 50_000;
    const rate = 0.3;
    const x = ones(n);
    const base = await dropout('forward', x, { rate, seed: 1, step: 10, salt: 1 });
    expect([...(await dropout('forward', x, { rate, seed: 1, step: 10, salt: 1 }))]).toEqual([...base]);
    const agreement = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + ((v !== 0) === (b[i] !== 0) ? 1 : 0), 0) / n;
    // Independent masks agree on p² + (1 − p)² of the elements; identical ones on all.
    const independent = rate ** 2 + (1 - rate) ** 2;
    const bound = 5 * Math.sqrt((independent * (1 - independent)) / n);
    for (const other of [{ seed: 1, step: 11, salt: 1 }, { seed: 2, step: 10, salt: 1 }, { seed: 1, step: 10, salt: 2 }]) {
      const y = await dropout('forward', x, { rate, ...other });
      expect(Math.abs(agreement(base, y) - independent), JSON.stringify(other)).toBeLessThan(bound);
    }
  });

  it('the backward pass regenerates the forward mask', async () => {
    const n = 10_007;
    const rate = 0.25;
    const rng = new Rng(9);
    const x = randomArray(n, rng, 2);
    const dy = randomArray(n, rng);
    const run = { rate, seed: 123, step: 456, salt: 3 };
    const y = await dropout('forward', x, run);
    const dx = await dropout('backward', dy, run);
    // y = x·m and dx = dy·m with the same m.
    const m = Float64Array.from(y, (v, i) => v / x[i]);
    expectAllClose(dx, Float64Array.from(dy, (g, i) => g * m[i]), DROPOUT, 'dy ⊙ forward mask');
    // And the mask matches the reference (so y = 0 exactly where the reference drops).
    const reference = dropoutMaskRef(n, rate, 123, 456, 3);
    expectAllClose(dx, Float64Array.from(dy, (g, i) => g * reference[i]), DROPOUT, 'dy ⊙ reference mask');
  });

  for (const kind of ['relu', 'tanh', 'leaky_relu', 'elu', 'gelu'] as const) {
    it(`backward fused with the activation gradient (${kind})`, async () => {
      const n = 3001;
      const rng = new Rng(kind.length);
      const alpha = kind === 'elu' ? 1 : 0.1;
      const z = randomArray(n, rng, 3);
      const y = savedForGrad(z, kind, alpha); // y, or z itself for GELU
      const dy = randomArray(n, rng);
      const run = { rate: 0.4, seed: 5, step: 6, salt: 7 };
      const dz = await dropout('backward', dy, run, { kind, y, alpha });
      const mask = dropoutMaskRef(n, 0.4, 5, 6, 7);
      // dy ≤ 1 scaled by 1/(1 − p) before the derivative's error multiplies it.
      expectAllClose(dz, Float64Array.from(dy, (g, i) => g * mask[i] * activateGradRef(z[i], kind, alpha)), plus(DROPOUT, activationGradTolerance(1 / 0.6)), `dy ⊙ mask ⊙ ${kind}′`);
    });
  }

  it('rate 0 is the identity', async () => {
    const x = randomArray(1000, new Rng(1));
    expect([...(await dropout('forward', x, { rate: 0 }))]).toEqual([...x]);
  });

  it('rates outside [0, 1) are a ConfigError, in the model and in the graph', () => {
    for (const rate of [1, 1.5, -0.1, Number.NaN]) {
      expect(() => validateMlp({ layers: [4, 3, 2], dropout: rate })).toThrow(ConfigError);
      const g = new Graph();
      const x = g.tensor([2, 3], 'activation', 'x');
      expect(() => g.add('dropout', [x], { rate, salt: 1 })).toThrow(ConfigError);
    }
    expect(() => validateMlp({ layers: [4, 3, 2], dropout: 1 })).toThrow(/\[0, 1\)/);
  });
});
