/**
 * Whole epochs through Trainer.fit against a float64 reference, step by step: 29 samples in batches of 12,
 * so every epoch ends with a partial batch of 5 rows (its own plan: gradient scale 1/5, batch start 24),
 * over two epochs (the second reshuffles with the same generator). Plain SGD, so each step can be checked
 * from the GPU's own weights before it (read through fit's afterSubmit hook): the reference computes that
 * batch — the trainer's order shuffledIndices(count, Rng(seed ^ 0x5eed)) per epoch, rows [12·s, 12·s + 12)
 * — and its update, with no drift between the two runs to allow for. Checked per step: the weights after
 * the update; per epoch: the reported loss, accuracy, global gradient norm (mean and max over the steps)
 * and every parameter's mean gradient norm (the epoch report's layerGradNorms).
 * Then mixup inside the training step (λ from mixupLambda(α, seed, step), partner = mirrored batch row,
 * soft targets) and augmentation inside the training step (the model's degrees, the step's seed and
 * batch start reaching the kernel), both through the same harness.
 */
import { describe, expect, it } from 'vitest';
import { mixupLambda } from '../../src/data/mixup';
import { Rng, shuffledIndices } from '../../src/data/rng';
import type { Dataset } from '../../src/data/dataset';
import type { Augmentation } from '../../src/data/gpu_dataset';
import { Trainer, type EpochReport } from '../../src/train/trainer';
import { augmentBatchRef } from '../helpers/augment_reference';
import { compareElementwise, describeComparison, elementRatio, maxAbs, type Tolerance } from '../helpers/compare';
import { testGpu } from '../helpers/gpu';
import { mlpLossAndGrads, type RefLayer } from '../helpers/mlp_reference';
import { syntheticDataset } from '../helpers/synthetic';
import { U, augmentTolerance, chainTolerance, gradNormTolerance, mlpForwardSums, mlpStepSums, sgdUpdateTolerance } from '../tolerances';

interface Setup {
  data: Dataset;
  widths: number[];
  batch: number;
  lr: number;
  seed: number;
  epochs: number;
  augment?: Augmentation;
}

const paramNames = (widths: number[]) => widths.slice(1).flatMap((_, i) => [`${2 * i + 1}.weight`, `${2 * i + 1}.bias`]);

/** Runs the trainer, recording the weights before every step, and checks everything against float64. */
async function checkEpochs(setup: Setup): Promise<{ failures: string[]; worst: Record<string, number>; steps: number; tailRows: number[] }> {
  const { gpu } = await testGpu();
  const { data, widths, batch, lr, seed, epochs, augment } = setup;
  const trainer = await Trainer.create(gpu, data, undefined, { model: { layers: widths, activation: 'tanh', init: 'xavier_normal' }, optimizer: { lr }, batchSize: batch, seed, augment, stepsPerSubmit: 1 });
  const names = paramNames(widths); // one step per submit, so afterSubmit sees the weights after each step
  const snapshots: Promise<Map<string, Float32Array>>[] = [trainer.weights()];
  const reports: EpochReport[] = await trainer.fit({ epochs, evaluate: false, afterSubmit: () => void snapshots.push(trainer.weights()) });
  const weights = await Promise.all(snapshots);
  trainer.destroy();

  const failures: string[] = [];
  const worst: Record<string, number> = {};
  const check = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance) => {
    const c = compareElementwise(actual, expected, tol);
    worst[what] = Math.max(worst[what] ?? 0, c.ratio);
    if (!c.ok) failures.push(describeComparison(c, tol, what));
  };
  const features = widths[0];
  const classes = widths[widths.length - 1];
  const shuffle = new Rng(seed ^ 0x5eed);
  const steps = Math.ceil(data.count / batch);
  const tailRows: number[] = [];
  let globalStep = 0;
  for (let e = 0; e < epochs; e++) {
    const order = shuffledIndices(data.count, shuffle);
    let lossSum = 0;
    let lossBound = 0;
    let correct = 0;
    const slotNorms = new Map(names.map((n) => [n, 0]));
    const slotBounds = new Map(names.map((n) => [n, 0]));
    const globalNorms: number[] = [];
    let normBound = 0;
    for (let s = 0; s < steps; s++, globalStep++) {
      const start = s * batch;
      const rows = Math.min(batch, data.count - start);
      if (s === steps - 1) tailRows.push(rows);
      const before = weights[globalStep];
      const layers: RefLayer[] = widths.slice(1).map((out, i) => ({ weight: Float64Array.from(before.get(`${2 * i + 1}.weight`)!), bias: Float64Array.from(before.get(`${2 * i + 1}.bias`)!), in: widths[i], out }));
      const samples = order.subarray(start, start + rows);
      const labels = Array.from(samples, (i) => data.labels![i]);
      let x: Float64Array<ArrayBufferLike> = new Float64Array(rows * features);
      samples.forEach((sample, r) => x.set(Array.from(data.x.subarray(sample * features, (sample + 1) * features), (v) => v / 255), r * features));
      // Augmentation: the kernel's float32 sampling error on the inputs (augmentTolerance), carried to the
      // loss to first order by the reference's dL/dx.
      let inputError = 0;
      const rotated = !!augment?.maxRotate;
      if (augment?.maxRotate || augment?.maxShift) {
        const settings = { width: data.sampleShape[2], height: data.sampleShape[1], maxShift: augment.maxShift ?? 0, maxRotate: Math.fround(((augment.maxRotate ?? 0) * Math.PI) / 180), noiseStd: 0, scale: Math.fround(1 / 255), shift: 0 };
        x = augmentBatchRef(data.x, order, start, rows, seed, globalStep, settings);
        inputError = rotated ? augmentTolerance(settings).atol : 0; // shift only: a few hundred u, inside chainTolerance's 100u·scale
      }
      let targets: Float64Array | undefined;
      if (augment?.mixup) {
        const lambda = Math.fround(mixupLambda(augment.mixup, seed, globalStep));
        const mixed = Float64Array.from(x, (v, i) => lambda * v + (1 - lambda) * x[(rows - 1 - Math.floor(i / features)) * features + (i % features)]);
        x = mixed;
        targets = new Float64Array(rows * classes);
        labels.forEach((y, r) => {
          targets![r * classes + y] += lambda;
          targets![r * classes + labels[rows - 1 - r]] += 1 - lambda;
        });
      }
      const ref = mlpLossAndGrads(layers, x, labels, rows, 'tanh', 0.01, targets);
      const grads = ref.grads.flatMap((g) => [g.weight, g.bias]);
      const all = grads.flatMap((g) => [...g]);
      const gScale = maxAbs(all);
      const gradTol = chainTolerance(mlpStepSums(widths, rows), gScale);
      const sensitivity = inputError * ref.dx.reduce((a, v) => a + Math.abs(v), 0); // Σ|∂(Σ loss)/∂x|·Δx over the batch

      // The update from the GPU's own weights. (Augmented runs: the inputs' float32 error — sin and cos to
      // 2⁻¹¹ — reaches the gradients through every layer, beyond chainTolerance's reach; there the losses,
      // with the inputs' error carried by dL/dx, are what is checked.)
      if (!rotated) {
        const tol = sgdUpdateTolerance(1, lr, gradTol, gScale);
        names.forEach((n, k) => {
          const w = Float64Array.from(before.get(n)!, (v, i) => v - lr * grads[k][i]);
          check(`${n} after step ${globalStep + 1} (rows ${rows}, start ${start})`, weights[globalStep + 1].get(n)!, w, tol);
        });
      }
      lossSum += ref.loss * rows;
      lossBound += chainTolerance(mlpForwardSums(widths), ref.loss * rows).atol + U * lossSum + rows * sensitivity;
      correct += ref.correct;
      // gradNormTolerance for 64-invocation workgroups (the CPU split) bounds the 256-invocation split too.
      const rel = (g: ArrayLike<number>) => (gradTol.atol / Math.sqrt(Array.from(g).reduce((a, v) => a + v * v, 0) / g.length)) * 1;
      names.forEach((n, k) => {
        const norm = Math.hypot(...grads[k]);
        slotNorms.set(n, slotNorms.get(n)! + norm);
        slotBounds.set(n, slotBounds.get(n)! + norm * (rel(grads[k]) + gradNormTolerance(grads[k].length, 64).norm.rtol));
      });
      const global = Math.hypot(...all);
      globalNorms.push(global);
      normBound = Math.max(normBound, global * (rel(all) + gradNormTolerance(all.length, 64).norm.rtol + 10 * U));
    }
    const report = reports[e];
    const what = (x: string) => `epoch ${e + 1} ${x}`;
    const value = (name: string, actual: number, expected: number, atol: number) => {
      const r = elementRatio(actual, expected, { atol, rtol: 0 });
      worst[name] = Math.max(worst[name] ?? 0, r);
      if (!(r <= 1)) failures.push(`${what(name)}: ${actual} vs float64 ${expected} (${r.toPrecision(3)}× the bound ${atol.toExponential(2)})`);
    };
    value('loss', report.loss, lossSum / data.count, lossBound / data.count);
    if (!augment) expect(report.accuracy, what('accuracy')).toBe(correct / data.count);
    expect(Object.keys(report.layerGradNorms).sort(), what('layerGradNorms names')).toEqual([...names].sort());
    if (augment?.maxRotate) continue; // a rotation's input error reaches the gradients: losses only
    value('gradNorm', report.gradNorm, globalNorms.reduce((a, b) => a + b) / steps, normBound);
    value('maxGradNorm', report.maxGradNorm, Math.max(...globalNorms), normBound);
    for (const n of names) value(`layerGradNorms[${n}]`, report.layerGradNorms[n], slotNorms.get(n)! / steps, slotBounds.get(n)! / steps);
  }
  if (process.env.TOLERANCE_LOG) console.log(`[tolerance] epochs vs float64: ${JSON.stringify(worst)}`);
  return { failures, worst, steps, tailRows };
}

describe('training epochs through Trainer.fit vs float64, step by step', () => {
  it('29 samples in batches of 12: the partial last batch (5 rows, start 24) trains with its own scale, two epochs', async () => {
    const { failures, steps, tailRows } = await checkEpochs({ data: syntheticDataset(29, 3, 5, 4), widths: [15, 9, 10], batch: 12, lr: 0.5, seed: 6, epochs: 2 });
    expect(steps).toBe(3);
    expect(tailRows).toEqual([5, 5]);
    expect(failures).toEqual([]);
  });

  it('mixup inside the training step: blended inputs and soft targets, λ per step, partial batch included', async () => {
    const { failures } = await checkEpochs({ data: syntheticDataset(29, 3, 5, 5), widths: [15, 9, 10], batch: 12, lr: 0.5, seed: 7, epochs: 2, augment: { mixup: 0.4 } });
    // λ really varies between the steps of this run (so a λ taken from the wrong step would show).
    const lambdas = Array.from({ length: 6 }, (_, step) => mixupLambda(0.4, 7, step));
    expect(Math.max(...lambdas) - Math.min(...lambdas)).toBeGreaterThan(0.1);
    expect(failures).toEqual([]);
  });

  it('augmentation inside the training step: shifts of ±1.5 px drawn from the step\'s seed, step and batch row', async () => {
    const { failures } = await checkEpochs({ data: syntheticDataset(29, 7, 9, 6), widths: [63, 12, 10], batch: 12, lr: 0.5, seed: 8, epochs: 2, augment: { maxShift: 1.5 } });
    expect(failures).toEqual([]);
  });

  // With rotation, SwiftShader's sin and cos (≈ 2⁻¹² absolute) leave the inputs a few tenths of a grey level
  // off the float64 warp, which reaches the gradients through every layer; only the losses are compared
  // (the inputs' error carried by dL/dx). The model's degrees are pinned in test/kernels/gather_augment.test.ts.
  it('augmentation inside the training step: ±20° and ±1.5 px, losses within the inputs\' float32 error', async () => {
    const { failures } = await checkEpochs({ data: syntheticDataset(29, 7, 9, 6), widths: [63, 12, 10], batch: 12, lr: 0.5, seed: 8, epochs: 2, augment: { maxRotate: 20, maxShift: 1.5 } });
    expect(failures).toEqual([]);
  });
});
