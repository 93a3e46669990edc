// The moments reduction (mean, population std, saturated fraction of a whole tensor) against float64, at
// sizes around its 64-wide workgroup and its GPU chunk (4096 elements), with a large common offset (no
// E[x²] − E[x]² cancellation) and with the huge values an exploding initialisation produces, under both
// reduction splits (one workgroup; chunk summaries and a combining pass). Tolerances: momentsTolerance
// (test/tolerances.ts).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { Graph, type Tensor } from '../../src/graph/graph';
import type { ReductionSplit } from '../../src/kernels/reduction_split';
import { expectValueClose } from '../helpers/compare';
import type { HostArray } from '../helpers/gpu';
import { runNode, SPLITS } from '../helpers/run_node';
import { momentsTolerance } from '../tolerances';
import { momentsRef } from '../helpers/reference';

async function run(x: Float32Array, split: ReductionSplit) {
  const g = new Graph();
  const xt = g.tensor([x.length], 'external', 'x');
  const [out] = g.add('moments', [xt]);
  const { written, dispatches } = await runNode(g.nodes[0], new Map<Tensor, HostArray>([[xt, x]]), split);
  return { out: written.get(out) as Float32Array, dispatches };
}

describe('moments kernel', () => {
  it('the GPU split takes a tensor past 4096 elements in chunks and a combining pass; the CPU split one workgroup', async () => {
    const x = new Float32Array(5000).fill(1);
    expect(await Promise.all(SPLITS.map(async ([, split]) => (await run(x, split)).dispatches))).toEqual([2, 1]);
  });

  for (const [splitName, split] of SPLITS) {
    const moments = async (x: Float32Array) => (await run(x, split)).out;
    for (const n of [1, 3, 63, 64, 65, 1000, 4096, 4097, 131072, 1000003]) {
      it(`${splitName} split: n=${n}`, async () => {
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

    it(`${splitName} split: a mean of 300 does not cancel a std of 1e-2`, async () => {
      // E[x²] − E[x]² in f32 would lose the variance entirely here (E[x²] = 9e4 has an ulp of 8e-3).
      const rng = new Rng(1);
      const x = Float32Array.from({ length: 4099 }, () => 300 + rng.normal() * 1e-2);
      const [mean, std] = await moments(x);
      const ref = momentsRef(x);
      const tol = momentsTolerance(x.length, ref.mean, ref.std);
      expectValueClose(mean, ref.mean, tol.mean, 'mean');
      expectValueClose(std, ref.std, tol.std, 'std');
    });

    it(`${splitName} split: exploding activations (|x| ~ 1e12) stay finite`, async () => {
      const rng = new Rng(2);
      const x = Float32Array.from({ length: 70000 }, () => Math.max(0, rng.normal()) * 3e12);
      const [mean, std, saturated] = await moments(x);
      const ref = momentsRef(x);
      const tol = momentsTolerance(x.length, ref.mean, ref.std);
      expectValueClose(mean, ref.mean, tol.mean, 'mean');
      expectValueClose(std, ref.std, tol.std, 'std');
      expectValueClose(saturated, ref.saturated, tol.saturated, 'saturated fraction');
    });

    it(`${splitName} split: all zeros: mean 0, std 0`, async () => {
      expect([...(await moments(new Float32Array(9000)))]).toEqual([0, 0, 0, 0]);
    });
  }
});
