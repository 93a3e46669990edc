/**
 * Gradients, checked in a chain:
 *   (a) the float64 CPU reference MLP (test/helpers/mlp_reference.ts) against central finite differences,
 *       so the reference itself is trustworthy;
 *   (b) the GPU gradients of the whole training graph (gather → fused matmul+activation layers →
 *       softmax_xent → autodiff's backward, fused and planned) against that reference, for every
 *       activation kind;
 *   (c) each op's backward rule on its own (matmul ± transB ± bias, activation, softmax_xent): a one-op
 *       graph whose GPU gradient is compared with finite differences of the CPU reference, at shapes
 *       that are not multiples of 4 or 8 (the matmul register block and workgroup tile).
 * The GPU gradients are read straight from the `grads` arena after a step with no optimizer attached.
 */
import { describe, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import type { Graph, Tensor } from '../../src/graph/graph';
import { activationKinds, type ActivationName } from '../../src/graph/ops';
import { graphGradients, trainingStepGradients } from '../helpers/graph_run';
import { expectAllClose, expectValueClose, maxAbs } from '../helpers/compare';
import { chainTolerance, finiteDifferenceTolerance, mlpForwardSums, mlpStepSums, plus } from '../tolerances';
import { mlpLossAndGrads, type RefLayer } from '../helpers/mlp_reference';
import { activateRef, matmulRef, numericGrad, softmaxXentRef } from '../helpers/reference';
import { syntheticDataset } from '../helpers/synthetic';

const kinds = Object.keys(activationKinds) as ActivationName[];
// Non-default slopes, so an alpha that is not plumbed through to the kernels shows up.
const alphaOf = (kind: ActivationName) => (kind === 'elu' ? 0.7 : kind === 'leaky_relu' ? 0.2 : 0.01);

function gaussianArray(n: number, rng: Rng, std: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal() * std);
}

/** Mean loss of the reference MLP as a function of one parameter array (the others held fixed). */
function lossOf(layers: RefLayer[], x: Float64Array, labels: ArrayLike<number>, rows: number, kind: string, alpha: number) {
  return () => mlpLossAndGrads(layers, x, labels, rows, kind, alpha).loss;
}

describe('(a) the float64 reference MLP vs finite differences', () => {
  const widths = [6, 5, 4, 3];
  const rows = 7;
  for (const kind of kinds) {
    it(`${kind}: 6-5-4-3, 7 rows, every weight and bias`, () => {
      const rng = new Rng(activationKinds[kind] + 40);
      const alpha = alphaOf(kind);
      const layers: RefLayer[] = widths.slice(1).map((out, i) => ({
        weight: gaussianArray(out * widths[i], rng, 1 / Math.sqrt(widths[i])),
        bias: gaussianArray(out, rng, 0.3),
        in: widths[i],
        out,
      }));
      // Random continuous inputs: no pre-activation lands within h of relu's kink.
      const x = gaussianArray(rows * widths[0], rng, 1);
      const labels = Array.from({ length: rows }, () => rng.nextBelow(3));
      const { grads } = mlpLossAndGrads(layers, x, labels, rows, kind, alpha);
      const f = lossOf(layers, x, labels, rows, kind, alpha);
      layers.forEach((layer, i) => {
        // numericGrad nudges the array in place, so f sees each perturbation through `layers`.
        const dW = numericGrad(() => f(), layer.weight);
        const db = numericGrad(() => f(), layer.bias);
        // The mean loss's terms (log-sum-exp and the label's logit, per row) are O(1) here: ≤ 10 in all.
        expectAllClose(grads[i].weight, dW, finiteDifferenceTolerance(10), `fc${i + 1}.weight vs finite differences`);
        expectAllClose(grads[i].bias, db, finiteDifferenceTolerance(10), `fc${i + 1}.bias vs finite differences`);
      });
    });
  }
});

describe('(b) GPU gradients of the whole MLP training graph vs the float64 reference', () => {
  // Widths and batch off every multiple of 4 and 8; 5 classes.
  const widths = [13, 11, 7, 5];
  const rows = 23;
  for (const kind of kinds) {
    it(`${kind}: 13-11-7-5, batch 23`, async () => {
      const alpha = alphaOf(kind);
      const model = { layers: widths, activation: kind, alpha };
      const rng = new Rng(100 + activationKinds[kind]);
      const data = syntheticDataset(rows, 1, widths[0], 7 + activationKinds[kind], widths.at(-1)!);
      const step = await trainingStepGradients(model, data, {
        initial: (_, arena) => {
          const initial = new Float32Array(arena.totalFloats);
          for (const slot of arena.slots) {
            const fanIn = slot.shape.length === 2 ? slot.shape[1] : 4;
            initial.set(Float32Array.from({ length: slot.size }, () => rng.normal() / Math.sqrt(fanIn)), slot.offset);
          }
          return initial;
        },
      });
      // The Sequential's Linear layers: Flatten is 0, then Linear, activation, Linear, ...
      const linear = (i: number) => String(2 * i + 1);
      const layers: RefLayer[] = widths.slice(1).map((out, i) => ({
        weight: Float64Array.from(step.params.get(`${linear(i)}.weight`)!),
        bias: Float64Array.from(step.params.get(`${linear(i)}.bias`)!),
        in: widths[i],
        out,
      }));
      const x = Float64Array.from(data.x, (v) => v / 255);
      const ref = mlpLossAndGrads(layers, x, data.labels!, rows, kind, alpha);
      expectValueClose(step.metrics[0] / rows, ref.loss, chainTolerance(mlpForwardSums(widths), ref.loss), 'mean loss');
      const gradTol = chainTolerance(mlpStepSums(widths, rows), maxAbs(ref.grads.flatMap((g) => [...g.weight, ...g.bias])));
      ref.grads.forEach((g, i) => {
        expectAllClose(step.grads.get(`${linear(i)}.weight`)!, g.weight, gradTol, `${linear(i)}.weight gradient`);
        expectAllClose(step.grads.get(`${linear(i)}.bias`)!, g.bias, gradTol, `${linear(i)}.bias gradient`);
      });
    });
  }
});

const gpuGradients = (params: Parameters<typeof graphGradients>[0], labels: Uint32Array, body: (g: Graph, p: Record<string, Tensor>) => Tensor) =>
  graphGradients(params, labels, body);

/** Finite differences of `loss` with respect to each named float64 array. */
function numericGrads(values: Record<string, Float64Array>, loss: () => number): Record<string, Float64Array> {
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [name, numericGrad(() => loss(), v)]));
}

const meanXent = (logits: ArrayLike<number>, labels: Uint32Array, rows: number, classes: number) => softmaxXentRef(logits, labels, rows, classes).lossSum / rows;

describe('(c) each backward rule: GPU gradient vs finite differences of the CPU reference', () => {
  const [m, k, n] = [7, 5, 6];
  for (const transB of [false, true]) {
    for (const bias of [false, true]) {
      it(`matmul${transB ? ' transB' : ''}${bias ? ' + bias' : ''}: a [${m},${k}] · b ${transB ? `[${n},${k}]ᵀ` : `[${k},${n}]`} → softmax_xent`, async () => {
        const rng = new Rng((transB ? 2 : 0) + (bias ? 1 : 0) + 50);
        const values: Record<string, Float64Array> = {
          a: Float64Array.from(gaussianArray(m * k, rng, 1), Math.fround),
          b: Float64Array.from(gaussianArray(k * n, rng, 0.7), Math.fround),
        };
        if (bias) values.bias = Float64Array.from(gaussianArray(n, rng, 0.5), Math.fround);
        const labels = Uint32Array.from({ length: m }, () => rng.nextBelow(n));
        const loss = () => {
          const z = matmulRef(values.a, values.b, m, n, k, false, transB);
          if (bias) z.forEach((v, i) => (z[i] = v + values.bias[i % n]));
          return meanXent(z, labels, m, n);
        };
        const shapes: Record<string, number[]> = { a: [m, k], b: transB ? [n, k] : [k, n], bias: [n] };
        const { grads, loss: gpuLoss } = await gpuGradients(
          Object.fromEntries(Object.entries(values).map(([name, v]) => [name, { shape: shapes[name], value: Float32Array.from(v) }])),
          labels,
          (g, p) => g.add('matmul', bias ? [p.a, p.b, p.bias] : [p.a, p.b], { transB, name: 'z' })[0],
        );
        // One matmul (K = k), softmax over n, the backward matmuls (K = n, and m rows for b and the bias).
        expectValueClose(gpuLoss, loss(), chainTolerance([k, n], loss()), 'mean loss');
        const numeric = numericGrads(values, loss);
        const gScale = maxAbs(Object.values(numeric).flatMap((v) => [...v]));
        for (const name of Object.keys(values)) expectAllClose(grads[name], numeric[name], plus(chainTolerance([k, n, n, m], gScale), finiteDifferenceTolerance(10)), `d${name}`);
      });
    }
  }

  for (const kind of kinds) {
    it(`activation ${kind} (unfused: standalone forward and backward kernels): a [7,5] → softmax_xent`, async () => {
      const [rows, classes] = [7, 5];
      const alpha = alphaOf(kind);
      const rng = new Rng(60 + activationKinds[kind]);
      const a = Float64Array.from(gaussianArray(rows * classes, rng, 1.5), Math.fround);
      const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
      const loss = () => meanXent(Array.from(a, (v) => activateRef(v, kind, alpha)), labels, rows, classes);
      const { grads, loss: gpuLoss } = await gpuGradients({ a: { shape: [rows, classes], value: Float32Array.from(a) } }, labels, (g, p) => g.add('activation', [p.a], { kind, alpha, name: 'h' })[0]);
      expectValueClose(gpuLoss, loss(), chainTolerance([classes], loss()), 'mean loss');
      const numeric = numericGrad(() => loss(), a);
      expectAllClose(grads.a, numeric, plus(chainTolerance([classes], maxAbs(numeric)), finiteDifferenceTolerance(10)), 'da');
    });
  }

  for (const [rows, classes] of [
    [9, 7],
    [1, 3],
    [13, 10],
  ] as const) {
    it(`softmax_xent on a parameter [${rows},${classes}]: its own backward`, async () => {
      const rng = new Rng(rows * classes);
      const z = Float64Array.from(gaussianArray(rows * classes, rng, 2), Math.fround);
      const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
      const loss = () => meanXent(z, labels, rows, classes);
      const { grads, loss: gpuLoss } = await gpuGradients({ z: { shape: [rows, classes], value: Float32Array.from(z) } }, labels, (_g, p) => p.z);
      expectValueClose(gpuLoss, loss(), chainTolerance([classes], loss()), 'mean loss');
      const numeric = numericGrad(() => loss(), z);
      expectAllClose(grads.z, numeric, plus(chainTolerance([classes], maxAbs(numeric)), finiteDifferenceTolerance(10)), 'dz');
    });
  }
});
