/**
 * GELU (exact erf form) and SiLU, forward and backward, against float64 references on a dense grid.
 * WGSL has no erf, so shaders/act_fns.wgsl approximates Φ(x); this file holds it to the ACTIVATION
 * tolerance (1e-7 absolute + 16u relative) on every element of [−10, 10] at a step of 1/1024, both
 * branches of the approximation and its cut-off included, and checks that the backward rule reads x, not y.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { Graph } from '../../src/graph/graph';
import { activationKinds, derivativeFromInput } from '../../src/graph/ops';
import { appendBackward } from '../../src/graph/autodiff';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose } from '../helpers/compare';
import { randomArray, runKernel } from '../helpers/gpu';
import { activateGradRef, activateRef, erfRef, normalCdfRef } from '../helpers/reference';
import { ACTIVATION } from '../tolerances';

const kinds = ['gelu', 'silu'] as const;

/** Every multiple of 1/1024 in [−10, 10] (exact in f32), the approximation's branch points included. */
const grid = Float32Array.from({ length: 20 * 1024 + 1 }, (_, i) => -10 + i / 1024);

async function run(entry: 'activationForward' | 'activationBackward', kind: string, src: Float32Array, v: Float32Array): Promise<Float32Array> {
  const [out] = await runKernel(entry, { ACT: activationKinds[kind as keyof typeof activationKinds] }, [{ data: src }, { data: v }, { output: src.length }], { count: src.length, alpha: 0 }, grid1d(src.length, 256));
  return out as Float32Array;
}

describe('float64 references (no GPU)', () => {
  it('erfRef matches known values to 1e-15 (series and continued-fraction branches)', () => {
    // erf(x) to 17 digits (Abramowitz & Stegun table 7.1 / mpmath).
    const known: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, e] of known) {
      expect(Math.abs(erfRef(x) - e), `erf(${x})`).toBeLessThan(1e-15);
      expect(erfRef(-x)).toBe(-erfRef(x));
    }
    // Far tail, where 1 − erf would cancel: Φ(−8) = 6.22096057427178e-16.
    expect(Math.abs(normalCdfRef(-8) / 6.22096057427178e-16 - 1)).toBeLessThan(1e-12);
  });

  it('the derivative references match central differences of the forward references', () => {
    for (const kind of kinds) {
      for (let x = -6; x <= 6; x += 0.37) {
        const h = 1e-5;
        const numeric = (activateRef(x + h, kind) - activateRef(x - h, kind)) / (2 * h);
        expect(Math.abs(activateGradRef(x, kind) - numeric), `${kind}'(${x})`).toBeLessThan(1e-9);
      }
    }
  });

  it('GELU and SiLU are differentiated from x, every other kind from y; the backward rule follows it', () => {
    for (const kind of Object.keys(activationKinds)) {
      expect(derivativeFromInput(kind), kind).toBe(kind === 'gelu' || kind === 'silu');
      const g = new Graph();
      const x = g.tensor([3, 4], 'param', 'x');
      const [y] = g.add('activation', [x], { kind, name: 'y' });
      const labels = g.tensor([3], 'external', 'labels', 'u32');
      const metrics = g.tensor([8], 'external', 'metrics');
      g.add('softmax_xent', [y, labels, metrics]);
      appendBackward(g, g.nodes.length - 1);
      const grad = g.nodes.find((n) => n.op === 'activation_grad')!;
      expect(grad.inputs[1], kind).toBe(derivativeFromInput(kind) ? x : y);
    }
  });
});

describe('GELU and SiLU kernels vs float64', () => {
  for (const kind of kinds) {
    it(`forward ${kind} on [−10, 10] every 1/1024`, async () => {
      const y = await run('activationForward', kind, grid, new Float32Array(4));
      expectAllClose(y, Array.from(grid, (x) => activateRef(x, kind)), ACTIVATION, `${kind}(x)`);
    });

    it(`backward ${kind} on [−10, 10] every 1/1024, from x`, async () => {
      const dy = new Float32Array(grid.length).fill(1);
      const dx = await run('activationBackward', kind, dy, grid);
      expectAllClose(dx, Array.from(grid, (x) => activateGradRef(x, kind)), ACTIVATION, `${kind}'(x)`);
    });

    it(`${kind}: dy scales the derivative; far inputs (±1e30, ±100) give finite, correct values`, async () => {
      const rng = new Rng(kind.length);
      const x = Float32Array.from([...randomArray(997, rng, 5), -1e30, 1e30, -100, 100, 0, -0]);
      const dy = randomArray(x.length, rng, 2);
      const dx = await run('activationBackward', kind, dy, x);
      // |dy| ≤ 2 doubles the bounds of the unit-dy case above.
      const tol = { atol: 2 * ACTIVATION.atol, rtol: ACTIVATION.rtol };
      expectAllClose(dx, Array.from(x, (v, i) => dy[i] * activateGradRef(v, kind)), tol, `dy·${kind}'(x)`);
      const y = await run('activationForward', kind, x, new Float32Array(4));
      expectAllClose(y, Array.from(x, (v) => activateRef(v, kind)), ACTIVATION, `${kind}(x)`);
    });
  }
});
