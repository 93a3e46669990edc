/**
 * A fixed-seed run on real MNIST, step by step: 784-32-10 (relu, he_normal), the first 2000 training
 * samples, batch 100, SGD with momentum 0.9 at lr 0.1, one epoch = 20 steps, against an independent
 * float64 run of the same model from the same initial weights (read from the trainer before training) in
 * the same batch order (the trainer's shuffle: shuffledIndices(count, Rng(seed ^ 0x5eed)) per epoch).
 * Every step's loss is checked three ways:
 *  1. against the float64 loss of that batch at the GPU's own weights before the step (read after each
 *     step through fit's afterSubmit hook): the float32 error of one forward pass and of the reported loss;
 *  2. against the independent float64 run, whose weights drift from the GPU's: the same bound plus the
 *     first-order effect of the measured weight difference, 2·Σ|∂L/∂w|·|Δw| (2× for the second-order
 *     terms); the weight difference itself must grow at most linearly with the step count, by at most one
 *     step's float32 update error per step (the errors of the steps add; momentum carries each into later
 *     steps with total weight lr/(1 − μ));
 *  3. on SwiftShader, the adapter they were recorded on, against values recorded from this engine
 *     (STORED, float32 digits): a regression pin far tighter than the float64 bounds.
 */
import { describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset';
import { loadMnist } from '../../src/data/mnist_node';
import { Rng, shuffledIndices } from '../../src/data/rng';
import { Trainer } from '../../src/train/trainer';
import { compareElementwise, describeComparison, elementRatio, maxAbs, type Tolerance } from '../helpers/compare';
import { testGpu } from '../helpers/gpu';
import { mlpLossAndGrads, type RefLayer } from '../helpers/mlp_reference';
import { newParam, optimizerStep, type RefOptimizer, type RefParam } from '../helpers/optim_reference';
import { U, chainTolerance, mlpForwardSums, mlpStepSums } from '../tolerances';

// Recorded from this engine on SwiftShader (Vulkan on CPU) via Dawn, seed 1: the 20 step losses.
const STORED = [
  2.4740441, 2.2831869, 2.1296008, 2.1807306, 1.9456262, 1.8338916, 1.6138135, 1.5091772, 1.2434424, 1.2478271, //
  1.033335, 1.0089673, 1.0001953, 1.0588794, 0.67737305, 0.60482666, 0.78400635, 0.7553833, 0.50694824, 0.55914062,
];
/** The pin: the reported loss is a difference of two float32 cumulative sums divided by 100; 2 ulps of it. */
const PIN: Tolerance = { atol: 0, rtol: 4 * U };

const names = ['1.weight', '1.bias', '3.weight', '3.bias'];
const widths = [784, 32, 10];
const asLayers = (p: RefParam[]): RefLayer[] => [
  { weight: p[0].w, bias: p[1].w, in: 784, out: 32 },
  { weight: p[2].w, bias: p[3].w, in: 32, out: 10 },
];

describe('fixed-seed loss trajectory (784-32-10, 2000 MNIST samples, batch 100, momentum)', () => {
  it('every one of the 20 step losses matches a float64 run of the same model, weights and batches', async () => {
    const { gpu } = await testGpu();
    const mnist = await loadMnist();
    const count = 2000;
    const batch = 100;
    const optimizer: RefOptimizer = { name: 'momentum', lr: 0.1, momentum: 0.9 };
    const seed = 1;
    const trainer = await Trainer.create(gpu, subset(mnist.train, 0, count), undefined, { model: { layers: widths }, optimizer, batchSize: batch, seed });
    const initial = await trainer.weights();
    const losses: number[] = [];
    // The weights after each step, read (copy submitted) before the next step is submitted.
    const weightsAfter: Promise<Map<string, Float32Array>>[] = [];
    await trainer.fit({ epochs: 1, reportEvery: 1, onStep: (r) => losses.push(r.loss), afterSubmit: () => void weightsAfter.push(trainer.weights()) });
    const gpuWeights = [initial, ...(await Promise.all(weightsAfter))];
    trainer.destroy();
    expect(losses).toHaveLength(20);
    expect(gpuWeights).toHaveLength(21);

    const order = shuffledIndices(count, new Rng(seed ^ 0x5eed));
    const reference = names.map((n) => newParam(initial.get(n)!, n.endsWith('weight')));
    const failures: string[] = [];
    const worst = { teacherForced: 0, independent: 0, drift: 0 };
    let cumulative = 0; // the epoch's float32 loss accumulator, in sum units (rows × mean loss)
    let driftBound = 0;
    for (let s = 0; s < 20; s++) {
      const samples = order.subarray(s * batch, (s + 1) * batch);
      const x = new Float64Array(batch * 784);
      samples.forEach((sample, r) => {
        for (let f = 0; f < 784; f++) x[r * 784 + f] = mnist.train.x[sample * 784 + f] / 255;
      });
      const labels = Array.from(samples, (sample) => mnist.train.labels![sample]);
      const atGpu = names.map((n) => newParam(gpuWeights[s].get(n)!, n.endsWith('weight')));
      const teacherForced = mlpLossAndGrads(asLayers(atGpu), x, labels, batch, 'relu');
      const independent = mlpLossAndGrads(asLayers(reference), x, labels, batch, 'relu');

      // The reported loss is (C_s − C_{s−1})/rows with C the float32 accumulator: its rounding at this step
      // (u·C_s) plus the forward pass's float32 error on the mean loss (chainTolerance over 784, 32, 10).
      cumulative += teacherForced.loss * batch;
      const stepTol: Tolerance = { atol: chainTolerance(mlpForwardSums(widths), teacherForced.loss).atol + (U * cumulative) / batch, rtol: 0 };
      const r1 = elementRatio(losses[s], teacherForced.loss, stepTol);
      worst.teacherForced = Math.max(worst.teacherForced, r1);
      if (!(r1 <= 1)) failures.push(`step ${s + 1}: ${losses[s]} vs float64 at the GPU's weights ${teacherForced.loss} (${r1.toPrecision(3)}× its bound)`);

      // The independent run: the drift's first-order effect on this batch's loss, from the measured Δw.
      const grads = independent.grads.flatMap((g) => [g.weight, g.bias]);
      let driftEffect = 0;
      names.forEach((n, k) => gpuWeights[s].get(n)!.forEach((w, i) => (driftEffect += Math.abs(grads[k][i]) * Math.abs(w - reference[k].w[i]))));
      const r2 = elementRatio(losses[s], independent.loss, { atol: stepTol.atol + 2 * driftEffect, rtol: 0 });
      worst.independent = Math.max(worst.independent, r2);
      if (!(r2 <= 1)) failures.push(`step ${s + 1}: ${losses[s]} vs the independent float64 run ${independent.loss} (${r2.toPrecision(3)}× its bound)`);

      // The weight drift after this step: one more step's update error, lr/(1 − μ)·(gradient error), and
      // the weights' rounding (u·|w| a step).
      const gScale = maxAbs(grads.flatMap((g) => [...g]));
      const gradTol = chainTolerance(mlpStepSums(widths, batch), gScale);
      const wScale = maxAbs(reference.flatMap((p) => [...p.w]));
      driftBound += (optimizer.lr / (1 - optimizer.momentum!)) * (gradTol.atol + gradTol.rtol * gScale) + U * wScale;
      optimizerStep(reference, grads, optimizer, s + 1);
      const drift = compareElementwise(
        names.flatMap((n) => [...gpuWeights[s + 1].get(n)!]),
        reference.flatMap((p) => [...p.w]),
        { atol: driftBound, rtol: 0 },
      );
      worst.drift = Math.max(worst.drift, drift.ratio);
      if (!drift.ok) failures.push(describeComparison(drift, { atol: driftBound, rtol: 0 }, `weights after step ${s + 1} vs the independent run`));
    }
    if (process.env.TOLERANCE_LOG) console.log(`[tolerance] loss trajectory worst ratios: ${JSON.stringify(worst)}`);
    expect(failures).toEqual([]);
    expect(losses[19]).toBeLessThan(losses[0] / 3); // and it learns

    if (/swiftshader/i.test(gpu.adapterName)) {
      const pin = compareElementwise(losses, STORED, PIN);
      expect(pin.ok, `${describeComparison(pin, PIN, 'step losses vs STORED')}; losses now: ${losses.map((l) => Math.fround(l)).join(', ')}`).toBe(true);
    }
  });
});
