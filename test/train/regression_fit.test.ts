/**
 * Regression end to end: a 3-16-2 tanh MLP trained with the MSE loss (and, more briefly, L1 and Huber) on a
 * smooth function of three float32 inputs (a tensorDataset with float targets), 256 training and 64 test
 * samples, batch 32, plain SGD lr 0.5, 8 epochs = 64 steps. An independent float64 run of the same model
 * from the same initial weights (read from the trainer before training) in the same batch order (the
 * trainer's shuffle, shuffledIndices(count, Rng(seed ^ 0x5eed)) per epoch) gives the reference fit: every
 * step's reported loss, and each epoch's reported test MSE and MAE, must match it within
 * REGRESSION_FIT (test/tolerances.ts); and the fit must really learn.
 */
import { describe, expect, it } from 'vitest';
import { tensorDataset, type Dataset } from '../../src/data/dataset';
import { Rng, shuffledIndices } from '../../src/data/rng';
import type { LossSpec } from '../../src/train/loss';
import { Trainer, type EpochReport } from '../../src/train/trainer';
import { compareElementwise, describeComparison } from '../helpers/compare';
import { testGpu } from '../helpers/gpu';
import { lossRef } from '../helpers/loss_reference';
import { mlpLossAndGradsWith, sgdStep, type RefLayer } from '../helpers/mlp_reference';
import { REGRESSION_FIT } from '../tolerances';

const widths = [3, 16, 2];
const [trainCount, testCount, batch, epochs, lr, seed] = [256, 64, 32, 8, 0.5, 3];

/** y = (sin(2·x₀) + x₁·x₂, cos(x₀ + x₁) − x₂²/2) on x uniform in [−1, 1]³. */
function smoothData(count: number, rng: Rng): Dataset {
  const x = Float32Array.from({ length: count * 3 }, () => rng.nextFloat() * 2 - 1);
  const targets = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    const [a, b, c] = [x[3 * i], x[3 * i + 1], x[3 * i + 2]];
    targets[2 * i] = Math.sin(2 * a) + b * c;
    targets[2 * i + 1] = Math.cos(a + b) - (c * c) / 2;
  }
  return tensorDataset({ x, sampleShape: [3], targets });
}

function rowsOf(data: Dataset, samples: ArrayLike<number>) {
  const x = new Float64Array(samples.length * 3);
  const t = new Float64Array(samples.length * 2);
  Array.from(samples).forEach((s, r) => {
    for (let f = 0; f < 3; f++) x[r * 3 + f] = data.x[s * 3 + f];
    for (let j = 0; j < 2; j++) t[r * 2 + j] = data.targets![s * 2 + j];
  });
  return { x, t };
}

async function fitBoth(spec: LossSpec) {
  const { gpu } = await testGpu();
  const rng = new Rng(77);
  const train = smoothData(trainCount, rng);
  const test = smoothData(testCount, rng);
  const trainer = await Trainer.create(gpu, train, test, { model: { layers: widths, activation: 'tanh', init: 'xavier_uniform' }, loss: spec, optimizer: { name: 'sgd', lr }, batchSize: batch, seed, autotune: false });
  const initial = await trainer.weights();
  const stepLosses: number[] = [];
  const reports: EpochReport[] = await trainer.fit({ epochs, reportEvery: 1, onStep: (r) => stepLosses.push(r.loss) });
  trainer.destroy();

  const layers: RefLayer[] = widths.slice(1).map((out, i) => ({
    weight: Float64Array.from(initial.get(`${2 * i + 1}.weight`)!),
    bias: Float64Array.from(initial.get(`${2 * i + 1}.bias`)!),
    in: widths[i],
    out,
  }));
  const shuffle = new Rng(seed ^ 0x5eed);
  const refSteps: number[] = [];
  const refTest: { loss: number; mse: number; mae: number }[] = [];
  const all = rowsOf(test, Array.from({ length: testCount }, (_, i) => i));
  const untrained = mlpLossAndGradsWith(layers, all.x, testCount, 'tanh', (h) => lossRef(spec.kind, h, all.t, testCount, 2, { delta: spec.delta })).loss;
  for (let e = 0; e < epochs; e++) {
    const order = shuffledIndices(trainCount, shuffle);
    for (let s = 0; s < trainCount / batch; s++) {
      const { x, t } = rowsOf(train, order.subarray(s * batch, (s + 1) * batch));
      const ref = mlpLossAndGradsWith(layers, x, batch, 'tanh', (h) => lossRef(spec.kind, h, t, batch, 2, { delta: spec.delta }));
      refSteps.push(ref.loss);
      sgdStep(layers, ref.grads, lr);
    }
    const evalRef = mlpLossAndGradsWith(layers, all.x, testCount, 'tanh', (h) => lossRef(spec.kind, h, all.t, testCount, 2, { delta: spec.delta }));
    const r = lossRef(spec.kind, evalRef.outputs, all.t, testCount, 2, { delta: spec.delta });
    refTest.push({ loss: r.loss, mse: r.squaredError / r.predictions, mae: r.absoluteError / r.predictions });
  }
  return { stepLosses, reports, refSteps, refTest, untrained };
}

describe('regression training vs a float64 reference fit (3-16-2 tanh, 64 SGD steps)', () => {
  it('mse: every step loss and every epoch test MSE / MAE match the float64 run, and the fit learns', async () => {
    const { stepLosses, reports, refSteps, refTest, untrained } = await fitBoth({ kind: 'mse' });
    expect(stepLosses).toHaveLength(64);
    const steps = compareElementwise(stepLosses, refSteps, REGRESSION_FIT);
    expect(steps.ok, describeComparison(steps, REGRESSION_FIT, 'step losses vs float64')).toBe(true);
    for (const key of ['testLoss', 'testMse', 'testMae'] as const) {
      const refKey = key === 'testLoss' ? 'loss' : key === 'testMse' ? 'mse' : 'mae';
      const c = compareElementwise(reports.map((r) => r[key]!), refTest.map((r) => r[refKey]), REGRESSION_FIT);
      expect(c.ok, describeComparison(c, REGRESSION_FIT, `${key} vs float64`)).toBe(true);
    }
    // MSE loss = mean squared error: the two reports agree; accuracy does not apply.
    for (const r of reports) {
      expect(r.mse).toBeCloseTo(r.loss, 5);
      expect(r.testMse).toBeCloseTo(r.testLoss!, 5);
      expect(Number.isNaN(r.accuracy)).toBe(true);
    }
    if (process.env.TOLERANCE_LOG) {
      console.log(`[fit] mse steps ${stepLosses[0]} → ${stepLosses.at(-1)} (float64 ${refSteps[0]} → ${refSteps.at(-1)}), worst ratio ${steps.ratio}`);
      console.log(`[fit] untrained test mse ${untrained}; test mse per epoch ${reports.map((r) => r.testMse).join(', ')}; float64 ${refTest.map((r) => r.mse).join(', ')}`);
    }
    // It learns: the test MSE falls to under a third of the untrained model's.
    expect(reports.at(-1)!.testMse!).toBeLessThan(untrained / 3);
  });

  for (const spec of [{ kind: 'l1' }, { kind: 'huber', delta: 0.5 }] as LossSpec[]) {
    it(`${spec.kind}: every step loss and the test loss match the float64 run`, async () => {
      const { stepLosses, reports, refSteps, refTest } = await fitBoth(spec);
      const steps = compareElementwise(stepLosses, refSteps, REGRESSION_FIT);
      expect(steps.ok, describeComparison(steps, REGRESSION_FIT, 'step losses vs float64')).toBe(true);
      const test = compareElementwise(reports.map((r) => r.testLoss!), refTest.map((r) => r.loss), REGRESSION_FIT);
      expect(test.ok, describeComparison(test, REGRESSION_FIT, 'test loss vs float64')).toBe(true);
      expect(refSteps.at(-1)!).toBeLessThan(refSteps[0]);
      if (process.env.TOLERANCE_LOG) console.log(`[fit] ${spec.kind} steps ${stepLosses[0]} → ${stepLosses.at(-1)} (float64 ${refSteps[0]} → ${refSteps.at(-1)}), worst ratio ${steps.ratio}; test ${reports.at(-1)!.testLoss} vs ${refTest.at(-1)!.loss}`);
    });
  }
});
