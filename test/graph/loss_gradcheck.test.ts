/**
 * Each loss's gradient through a small graph: a 6-5-C tanh MLP's whole training step on the GPU (gather →
 * layers → the `loss` op → autodiff's backward, fused and planned), on float32 data built with
 * tensorDataset, against
 *   (a) finite differences of the float64 reference MLP with the same loss (test/helpers/loss_reference.ts),
 *       which checks the references' analytic gradients;
 *   (b) that reference's analytic gradients, at the GPU's own initial weights: every weight and bias.
 * Batch 7 rows, C = 3 outputs (classes or targets): nothing a multiple of 4 or 8.
 */
import { describe, expect, it } from 'vitest';
import { tensorDataset } from '../../src/data/dataset';
import { Rng } from '../../src/data/rng';
import type { LossSpec } from '../../src/train/loss';
import { lossOf } from '../../src/train/reports';
import { totalsOf } from '../../src/train/metrics';
import { expectAllClose, expectValueClose, maxAbs } from '../helpers/compare';
import { trainingStepGradients } from '../helpers/graph_run';
import { lossRef } from '../helpers/loss_reference';
import { mlpLossAndGradsWith, type RefLayer } from '../helpers/mlp_reference';
import { numericGrad } from '../helpers/reference';
import { chainTolerance, finiteDifferenceTolerance, mlpForwardSums, mlpStepSums } from '../tolerances';

const widths = [6, 5, 3];
const rows = 7;
const losses: LossSpec[] = [
  { kind: 'cross_entropy', labelSmoothing: 0.15 },
  { kind: 'cross_entropy', classWeights: [0.5, 2, 1.25] },
  { kind: 'cross_entropy', labelSmoothing: 0.1, classWeights: [1.5, 0.25, 1] },
  { kind: 'bce' },
  { kind: 'mse' },
  { kind: 'l1' },
  { kind: 'huber', delta: 0.6 },
  { kind: 'smooth_l1', beta: 0.4 },
];
const nameOf = (s: LossSpec) => `${s.kind}${s.labelSmoothing ? ` ε=${s.labelSmoothing}` : ''}${s.classWeights ? ' weighted' : ''}${s.delta ? ` δ=${s.delta}` : ''}${s.beta ? ` β=${s.beta}` : ''}`;

describe('each loss through an MLP training graph: GPU gradients vs the float64 reference and finite differences', () => {
  for (const [k, spec] of losses.entries()) {
    it(nameOf(spec), async () => {
      const rng = new Rng(500 + k);
      const x = Float32Array.from({ length: rows * widths[0] }, () => rng.normal());
      const ce = spec.kind === 'cross_entropy';
      const out = widths.at(-1)!;
      const truth = ce
        ? Uint32Array.from({ length: rows }, (_, r) => r % out) // every class present
        : spec.kind === 'bce'
          ? Float32Array.from({ length: rows * out }, () => (rng.nextFloat() < 0.5 ? rng.nextBelow(2) : rng.nextFloat()))
          : Float32Array.from({ length: rows * out }, () => rng.normal());
      const data = tensorDataset(ce ? { x, sampleShape: [widths[0]], labels: truth, numClasses: out } : { x, sampleShape: [widths[0]], targets: truth as Float32Array });
      const step = await trainingStepGradients({ layers: widths, activation: 'tanh' }, data, {
        loss: spec,
        initial: (_, arena) => {
          const initial = new Float32Array(arena.totalFloats);
          for (const slot of arena.slots) {
            const fanIn = slot.shape.length === 2 ? slot.shape[1] : 2;
            initial.set(Float32Array.from({ length: slot.size }, () => rng.normal() / Math.sqrt(fanIn)), slot.offset);
          }
          return initial;
        },
      });
      const linear = (i: number) => String(2 * i + 1);
      const layers: RefLayer[] = widths.slice(1).map((o, i) => ({
        weight: Float64Array.from(step.params.get(`${linear(i)}.weight`)!),
        bias: Float64Array.from(step.params.get(`${linear(i)}.bias`)!),
        in: widths[i],
        out: o,
      }));
      const opts = {
        labelSmoothing: spec.labelSmoothing === undefined ? undefined : Math.fround(spec.labelSmoothing),
        classWeights: spec.classWeights && Float32Array.from(spec.classWeights),
        delta: spec.delta ?? spec.beta,
      };
      const head = (h: Float64Array) => lossRef(spec.kind, h, truth, rows, out, opts);
      const x64 = Float64Array.from(x);
      const ref = mlpLossAndGradsWith(layers, x64, rows, 'tanh', head);

      // (a) the reference's analytic gradients against its own finite differences.
      const f = () => mlpLossAndGradsWith(layers, x64, rows, 'tanh', head).loss;
      layers.forEach((layer, i) => {
        expectAllClose(ref.grads[i].weight, numericGrad(f, layer.weight), finiteDifferenceTolerance(10), `${linear(i)}.weight: reference vs finite differences`);
        expectAllClose(ref.grads[i].bias, numericGrad(f, layer.bias), finiteDifferenceTolerance(10), `${linear(i)}.bias: reference vs finite differences`);
      });

      // (b) the GPU's loss and gradients against the reference.
      const totals = totalsOf(step.metrics);
      expect(totals.rows).toBe(rows);
      expectValueClose(lossOf(totals), ref.loss, chainTolerance(mlpForwardSums(widths), Math.max(1, ref.loss)), 'mean loss');
      const gradTol = chainTolerance(mlpStepSums(widths, rows), maxAbs(ref.grads.flatMap((g) => [...g.weight, ...g.bias])));
      ref.grads.forEach((g, i) => {
        expectAllClose(step.grads.get(`${linear(i)}.weight`)!, g.weight, gradTol, `${linear(i)}.weight gradient`);
        expectAllClose(step.grads.get(`${linear(i)}.bias`)!, g.bias, gradTol, `${linear(i)}.bias gradient`);
      });
    });
  }
});
