// The moments reduction (mean, population std, saturated fraction of a whole tensor) against float64, at
// sizes around its 64-wide workgroup, with a large common offset (no E[x²] − E[x]² cancellation) and with
// the huge values an exploding initialisation produces. Tolerances: momentsTolerance (test/tolerances.ts).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { expectValueClose } from '../helpers/compare';
import { runKernel } from '../helpers/gpu';
import { momentsTolerance } from '../tolerances';
import { momentsRef } from '../helpers/reference';

async function moments(x: Float32Array) {
  const [out] = await runKernel('moments', {}, [{ data: x }, { output: 4 }], { count: x.length }, [1, 1, 1]);
  return out;
}


describe('moments kernel', () => {
  for (const n of [1, 3, 63, 64, 65, 1000, 131072]) {
    it(`n=${n}`, async () => {
      const rng = new Rng(n);
      const x = Float32Array.from({ length: n }, () => rng.normal() * 0.7 + 0.2);
      const [mean, std, saturated, zero] = await moments(x);
      const ref = momentsRef(x);
      const tol = momentsTolerance(n, ref.mean, ref.std);
      expectValueClose(mean, ref.mean, tol.mean, 'mean');
      if (n > 1) expectValueClose(std, ref.std, tol.std, 'std');
      else expect(std).toBe(0);
      expectValueClose(saturated, ref.saturated, tol.saturated, 'saturated fraction');
      expect(zero).toBe(0);
    });
  }

  it('a mean of 300 does not cancel a std of 1e-2', async () => {
    // E[x²] − E[x]² in f32 would lose the variance entirely here (E[x²] = 9e4 has an ulp of 8e-3).
    const rng = new Rng(1);
    const x = Float32Array.from({ length: 4099 }, () => 300 + rng.normal() * 1e-2);
    const [mean, std] = await moments(x);
    const ref = momentsRef(x);
    const tol = momentsTolerance(x.length, ref.mean, ref.std);
    expectValueClose(mean, ref.mean, tol.mean, 'mean');
    expectValueClose(std, ref.std, tol.std, 'std');
  });

  it('exploding activations (|x| ~ 1e12) stay finite', async () => {
    const rng = new Rng(2);
    const x = Float32Array.from({ length: 70000 }, () => Math.max(0, rng.normal()) * 3e12);
    const [mean, std, saturated] = await moments(x);
    const ref = momentsRef(x);
    const tol = momentsTolerance(x.length, ref.mean, ref.std);
    expectValueClose(mean, ref.mean, tol.mean, 'mean');
    expectValueClose(std, ref.std, tol.std, 'std');
    expectValueClose(saturated, ref.saturated, tol.saturated, 'saturated fraction');
  });

  it('all zeros: mean 0, std 0', async () => {
    expect([...(await moments(new Float32Array(300)))]).toEqual([0, 0, 0, 0]);
  });
});
