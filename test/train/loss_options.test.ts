/**
 * The loss option end to end: bad settings and data/loss mismatches refused with typed errors before any
 * GPU work; evaluation (evaluate(), the test report) computes the trainer's loss and the metrics that fit
 * it, checked against the model's own predictions (predict: softmax, sigmoid or raw outputs) on the CPU.
 */
import { describe, expect, it } from 'vitest';
import { tensorDataset, type Dataset } from '../../src/data/dataset';
import { Rng } from '../../src/data/rng';
import { ConfigError, ShapeError } from '../../src/errors';
import { resolveLoss, type LossOption } from '../../src/train/loss';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';
import { syntheticDataset } from '../helpers/synthetic';
import { mnistLikeSource, modelGraph } from '../helpers/step_graph';
import { fuse } from '../../src/scheduler/fuse';
import { planStep } from '../../src/scheduler/plan';
import { externalBuffer } from '../../src/graph/graph';

const rng = new Rng(21);
const features = 4;
const xOf = (count: number) => Float32Array.from({ length: count * features }, () => rng.nextFloat() * 2 - 1);
/** Labels: the sign pattern of two features (4 classes). */
function labelled(count: number): Dataset {
  const x = xOf(count);
  const labels = Uint32Array.from({ length: count }, (_, i) => (x[i * features] > 0 ? 1 : 0) + (x[i * features + 1] > 0 ? 2 : 0));
  return tensorDataset({ x, sampleShape: [features], labels, numClasses: 4 });
}
/** Multi-label targets: three independent sign tests. */
function multiLabel(count: number): Dataset {
  const x = xOf(count);
  const targets = Float32Array.from({ length: count * 3 }, (_, k) => (x[Math.floor(k / 3) * features + (k % 3)] + 0.2 * x[Math.floor(k / 3) * features + 3] > 0 ? 1 : 0));
  return tensorDataset({ x, sampleShape: [features], targets, targetShape: [3] });
}
function regression(count: number, width = 2): Dataset {
  const x = xOf(count);
  const targets = Float32Array.from({ length: count * width }, (_, k) => Math.sin(x[Math.floor(k / width) * features + (k % features)] * 2));
  return tensorDataset({ x, sampleShape: [features], targets });
}

describe('resolveLoss refuses bad settings (ConfigError, naming the value)', () => {
  const bad: [LossOption, RegExp][] = [
    ['softmax' as never, /Unknown loss 'softmax'/],
    [{ kind: 'cross_entropy', labelSmoothing: 1 }, /Label smoothing .*\[0, 1\); got 1/],
    [{ kind: 'cross_entropy', labelSmoothing: -0.1 }, /got -0.1/],
    [{ kind: 'cross_entropy', classWeights: [1, -1] }, /classWeights\[1\] = -1/],
    [{ kind: 'cross_entropy', classWeights: [1, NaN] }, /classWeights\[1\] = NaN/],
    [{ kind: 'cross_entropy', classWeights: [] }, /got none/],
    [{ kind: 'cross_entropy', classWeights: [0, 0] }, /must not all be 0/],
    [{ kind: 'huber', delta: 0 }, /delta must be a finite number > 0; got 0/],
    [{ kind: 'smooth_l1', beta: -1 }, /beta must be a finite number > 0; got -1/],
    [{ kind: 'mse', labelSmoothing: 0.1 }, /labelSmoothing does not apply to mse/],
    [{ kind: 'huber', beta: 1 }, /beta does not apply to huber \(it takes delta\)/],
  ];
  for (const [option, message] of bad) {
    it(JSON.stringify(option), () => {
      expect(() => resolveLoss(option)).toThrow(ConfigError);
      expect(() => resolveLoss(option)).toThrow(message);
    });
  }
  it('plain cross-entropy (the softmax_xent path) only without smoothing and weights', () => {
    expect(resolveLoss().plain).toBe(true);
    expect(resolveLoss({ kind: 'cross_entropy', labelSmoothing: 0 }).plain).toBe(true);
    expect(resolveLoss({ kind: 'cross_entropy', labelSmoothing: 0.1 }).plain).toBe(false);
    expect(resolveLoss('mse').regression && !resolveLoss('bce').regression).toBe(true);
  });
});

describe('the plans: plain cross-entropy runs the fused head; the other losses run the loss op beside the last matmul', () => {
  const kernelsOf = (loss?: LossOption) => {
    const source = mnistLikeSource();
    if (loss && loss !== 'cross_entropy' && !(typeof loss === 'object' && loss.kind === 'cross_entropy')) {
      Object.assign(source, { rowKind: 'targets', rowWidth: 10, numClasses: undefined, side: externalBuffer('train.side', 60000 * 40), targetShape: [10] });
    }
    const { graph, layout } = modelGraph({ layers: [784, 128, 64, 10] }, 128, true, source, loss);
    return planStep(fuse(graph.nodes), layout).dispatches.map((d) => d.kernel);
  };
  it('784-128-64-10: the default plan is unchanged by loss: cross_entropy; smoothing and mse swap the fused head for the last matmul, loss + loss_reduce and the input-gradient matmul', () => {
    const plain = kernelsOf();
    expect(plain).toContain('linearSoftmaxXent');
    expect(plain).not.toContain('loss');
    expect(kernelsOf('cross_entropy')).toEqual(plain);
    const swap = (k: string[]) => k.flatMap((x) => (x === 'linearSoftmaxXent' ? ['matmul', 'loss', 'lossReduce', 'matmul'] : [x]));
    expect(kernelsOf({ kind: 'cross_entropy', labelSmoothing: 0.1 })).toEqual(swap(plain));
    expect(kernelsOf('mse')).toEqual(swap(plain));
  });
});

describe('data / loss / model mismatches are refused before any GPU work', () => {
  const cases: { name: string; train: () => Dataset; test?: () => Dataset; options: Partial<TrainerOptions>; error: typeof ConfigError | typeof ShapeError; message: RegExp }[] = [
    { name: 'targets with cross-entropy', train: () => regression(40), options: { model: { layers: [features, 2] } }, error: ConfigError, message: /float targets, but the cross_entropy loss needs class labels/ },
    { name: 'targets with smoothed cross-entropy', train: () => regression(40), options: { model: { layers: [features, 2] }, loss: { kind: 'cross_entropy', labelSmoothing: 0.1 } }, error: ConfigError, message: /needs class labels/ },
    { name: 'labels with mse', train: () => labelled(40), options: { model: { layers: [features, 4] }, loss: 'mse' }, error: ConfigError, message: /class labels, but the mse loss needs float targets/ },
    { name: 'labels with bce', train: () => labelled(40), options: { model: { layers: [features, 4] }, loss: 'bce' }, error: ConfigError, message: /the bce loss needs float targets/ },
    { name: 'targets [2] with an output of 3', train: () => regression(40), options: { model: { layers: [features, 3] }, loss: 'mse' }, error: ShapeError, message: /output per sample is \[3\] but the training data's targets are \[2\]/ },
    { name: 'a test set with other targets', train: () => regression(40), test: () => regression(20, 3), options: { model: { layers: [features, 2] }, loss: 'l1' }, error: ShapeError, message: /test data's targets are \[3\]/ },
    { name: 'class weights for 3 of 4 classes', train: () => labelled(40), options: { model: { layers: [features, 4] }, loss: { kind: 'cross_entropy', classWeights: [1, 2, 3] } }, error: ShapeError, message: /3 class weights for the training data's 4 classes/ },
    { name: 'mixup with bce', train: () => multiLabel(40), options: { model: { layers: [features, 3] }, loss: 'bce', augment: { mixup: 0.2 } }, error: ConfigError, message: /Mixup .* plain cross-entropy only; the loss is bce/ },
    { name: 'mixup with label smoothing', train: () => syntheticDataset(40, 1, 4, 2, 4), options: { model: { layers: [features, 4] }, loss: { kind: 'cross_entropy', labelSmoothing: 0.1 }, augment: { mixup: 0.2 } }, error: ConfigError, message: /the loss is cross_entropy \(label smoothing 0.1\)/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { resources } = await testGpu();
      const created = resources.counts.buffersCreated;
      const attempt = () => Trainer.create(resources, c.train(), c.test?.(), { batchSize: 8, autotune: false, ...c.options } as TrainerOptions);
      await expect(attempt()).rejects.toThrow(c.error);
      await expect(attempt()).rejects.toThrow(c.message);
      expect(resources.counts.buffersCreated).toBe(created);
    });
  }

  it('early stopping on valAccuracy with a regression loss', async () => {
    const { resources } = await testGpu();
    const trainer = await Trainer.create(resources, regression(40), undefined, { model: { layers: [features, 2] }, loss: 'mse', batchSize: 8, validation: 8, autotune: false });
    await expect(trainer.fit({ epochs: 1, earlyStopping: { patience: 1, monitor: 'valAccuracy' } })).rejects.toThrow(/cannot monitor valAccuracy with the mse loss/);
    trainer.destroy();
  });
});

describe('evaluation uses the trainer loss; its metrics match the model predictions', () => {
  it('cross-entropy with class weights and label smoothing: test loss and accuracy from the predicted probabilities', async () => {
    const { resources } = await testGpu();
    const train = labelled(96);
    const test = labelled(45);
    const weights = [0.5, 1, 2, 1.5];
    const eps = 0.1;
    const trainer = await Trainer.create(resources, train, test, { model: { layers: [features, 8, 4], activation: 'tanh' }, loss: { kind: 'cross_entropy', labelSmoothing: eps, classWeights: weights }, batchSize: 16, evalBatchSize: 20, autotune: false, optimizer: { name: 'sgd', lr: 0.5 } });
    const reports = await trainer.fit({ epochs: 3 });
    const evaluation = await trainer.evaluate();
    const p = await trainer.predict(test.x as Float32Array);
    trainer.destroy();
    let num = 0;
    let den = 0;
    let correct = 0;
    for (let r = 0; r < test.count; r++) {
      const y = test.labels![r];
      const row = Array.from(p.subarray(r * 4, r * 4 + 4));
      num += (1 - eps) * weights[y] * -Math.log(row[y]) + (eps / 4) * row.reduce((s, v, j) => s + weights[j] * -Math.log(v), 0);
      den += weights[y];
      if (row.indexOf(Math.max(...row)) === y) correct++;
    }
    // The softmax probabilities are float32 (relative error ~1e-6 each, so −log p to ~1e-6 absolute).
    expect(evaluation.loss).toBeCloseTo(num / den, 4);
    expect(evaluation.accuracy).toBe(correct / test.count);
    expect(reports.at(-1)!.testLoss).toBe(evaluation.loss);
    expect(reports.at(-1)!.testAccuracy).toBe(evaluation.accuracy);
    expect(reports.at(-1)!.mse).toBeUndefined();
    expect(reports.at(-1)!.loss).toBeLessThan(reports[0].loss);
  });

  it('bce: per-element accuracy at 0.5 from the predicted sigmoid probabilities', async () => {
    const { resources } = await testGpu();
    const train = multiLabel(96);
    const test = multiLabel(33);
    const trainer = await Trainer.create(resources, train, test, { model: { layers: [features, 8, 3], activation: 'tanh' }, loss: 'bce', batchSize: 16, autotune: false, optimizer: { name: 'sgd', lr: 1 } });
    const reports = await trainer.fit({ epochs: 4 });
    const evaluation = await trainer.evaluate();
    const p = await trainer.predict(test.x as Float32Array);
    trainer.destroy();
    let correct = 0;
    let loss = 0;
    p.forEach((v, k) => {
      const t = test.targets![k];
      if (v > 0.5 === t >= 0.5) correct++;
      loss += -(t * Math.log(v) + (1 - t) * Math.log(1 - v));
    });
    expect(evaluation.accuracy).toBe(correct / p.length);
    expect(evaluation.loss).toBeCloseTo(loss / p.length, 4);
    expect(reports.at(-1)!.testAccuracy).toBe(evaluation.accuracy);
    expect(reports.at(-1)!.accuracy).toBeGreaterThan(0.6);
  });

  it('mse: predict returns the raw outputs; the test MSE and MAE are theirs', async () => {
    const { resources } = await testGpu();
    const train = regression(64);
    const test = regression(29);
    const trainer = await Trainer.create(resources, train, test, { model: { layers: [features, 8, 2], activation: 'tanh' }, loss: 'mse', batchSize: 16, autotune: false });
    const reports = await trainer.fit({ epochs: 2 });
    const evaluation = await trainer.evaluate();
    const out = await trainer.predict(test.x as Float32Array);
    trainer.destroy();
    expect(out.length).toBe(test.count * 2);
    let sq = 0;
    let abs = 0;
    out.forEach((v, k) => {
      const d = v - test.targets![k];
      sq += d * d;
      abs += Math.abs(d);
    });
    expect(evaluation.mse!).toBeCloseTo(sq / out.length, 5);
    expect(evaluation.mae!).toBeCloseTo(abs / out.length, 5);
    expect(evaluation.loss).toBeCloseTo(evaluation.mse!, 6);
    expect(Number.isNaN(evaluation.accuracy)).toBe(true);
    expect(reports.at(-1)!.testMse).toBe(evaluation.mse);
    expect(reports.at(-1)!.testMae).toBe(evaluation.mae);
  });
});
