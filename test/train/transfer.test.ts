/**
 * Transfer learning (src/train/transfer.ts) against a float64 reference: frozen layers get no update (not
 * even weight decay) and no gradient pass, learning-rate multipliers scale a layer's steps, progressive
 * unfreezing thaws the highest frozen layer every N epochs with Adam's bias correction counted from the
 * layer's own first step (as PyTorch's per-parameter step count), and a new head starts fresh over loaded
 * weights. Full-batch steps of a 12-9-10 tanh MLP (layers 0 Flatten, 1 Linear, 2 Tanh, 3 Linear).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors';
import { encodeSafetensors } from '../../src/io/safetensors';
import { Model } from '../../src/nn/model';
import { mlpLayers } from '../../src/nn/mlp';
import { Trainer } from '../../src/train/trainer';
import type { TrainerOptions } from '../../src/train/options';
import { TransferPlan, withNewHead } from '../../src/train/transfer';
import { expectAllClose, maxAbs } from '../helpers/compare';
import { testGpu } from '../helpers/gpu';
import { mlpLossAndGrads, type RefLayer } from '../helpers/mlp_reference';
import { newParam, optimizerStep, type RefOptimizer, type RefParam } from '../helpers/optim_reference';
import { syntheticDataset } from '../helpers/synthetic';
import { chainTolerance, mlpStepSums, optimizerRunTolerance } from '../tolerances';

const widths = [12, 9, 10];
const names = ['1.weight', '1.bias', '3.weight', '3.bias'];
const data = syntheticDataset(20, 3, 4, 7);

interface Case {
  optimizer: RefOptimizer;
  transfer: Pick<TrainerOptions, 'freeze' | 'lrMultipliers' | 'unfreezeEvery'>;
  epochs: number;
  /** Per epoch (0-based): the learning-rate scale of layer 1 and of layer 3 (0: frozen). */
  scales: (epoch: number) => [number, number];
}

/** Trains `epochs` full-batch steps on the GPU and in float64, each layer at its own scale and step count. */
async function compare(c: Case) {
  const { gpu } = await testGpu();
  const trainer = await Trainer.create(gpu, data, undefined, {
    model: { layers: widths, activation: 'tanh', init: 'xavier_normal' },
    batchSize: data.count,
    optimizer: c.optimizer,
    seed: 5,
    ...c.transfer,
  });
  const initial = await trainer.weights();
  const params: RefParam[] = names.map((n) => newParam(initial.get(n)!, n.endsWith('weight')));
  const x = Float64Array.from(data.x, (v) => v / 255);
  const steps = [0, 0];
  let gScale = 0;
  const frozenSeen: number[][] = [];
  for (let epoch = 0; epoch < c.epochs; epoch++) {
    const layers: RefLayer[] = [0, 1].map((i) => ({ weight: params[2 * i].w, bias: params[2 * i + 1].w, in: widths[i], out: widths[i + 1] }));
    const { grads } = mlpLossAndGrads(layers, x, data.labels!, data.count, 'tanh');
    c.scales(epoch).forEach((scale, i) => {
      if (scale === 0) return;
      const g = [grads[i].weight, grads[i].bias];
      gScale = Math.max(gScale, maxAbs(g.flatMap((a) => [...a])));
      optimizerStep(params.slice(2 * i, 2 * i + 2), g, { ...c.optimizer, lr: c.optimizer.lr * scale }, ++steps[i]);
    });
  }
  for (let epoch = 0; epoch < c.epochs; epoch++) {
    frozenSeen.push(trainer.frozenLayers);
    await trainer.fit({ epochs: 1, evaluate: false });
  }
  const after = await trainer.weights();
  trainer.destroy();
  const gradTol = chainTolerance(mlpStepSums(widths, data.count), gScale);
  const tol = optimizerRunTolerance(c.optimizer, c.epochs, gradTol, gScale, { wScale: maxAbs(params.flatMap((p) => [...p.w])) });
  names.forEach((name, k) => expectAllClose(after.get(name)!, params[k].w, tol, `${name} after ${c.epochs} steps`));
  return { initial, after, frozenSeen };
}

describe('transfer learning: frozen layers, learning-rate multipliers, progressive unfreezing', () => {
  it('a frozen layer keeps its weights bit for bit (weight decay included) while the others train as the reference', async () => {
    const { initial, after, frozenSeen } = await compare({
      optimizer: { name: 'momentum', lr: 0.2, momentum: 0.9, weightDecay: 0.05 },
      transfer: { freeze: [0, 1, 2] },
      epochs: 3,
      scales: () => [0, 1],
    });
    expect(frozenSeen).toEqual([[1], [1], [1]]);
    for (const name of ['1.weight', '1.bias']) expect([...after.get(name)!], `${name} is frozen`).toEqual([...initial.get(name)!]);
    expect(maxAbs(after.get('3.weight')!.map((w, i) => w - initial.get('3.weight')![i])), 'the head trains').toBeGreaterThan(1e-3);
  });

  it('learning-rate multipliers scale each layer\'s steps (Adam with decoupled decay: the decay scales too)', async () => {
    await compare({
      optimizer: { name: 'adamw', lr: 0.02, weightDecay: 0.1 },
      transfer: { lrMultipliers: { 0: 0.1, 1: 0.1, 2: 0.1, 3: 2 } }, // 0 (Flatten) and 2 (Tanh) have no parameters: passed over
      epochs: 3,
      scales: () => [0.1, 2],
    });
  });

  it('progressive unfreezing thaws layer 1 after epoch 1; its Adam bias correction starts at its own first step', async () => {
    const { frozenSeen } = await compare({
      optimizer: { name: 'adam', lr: 0.02 },
      transfer: { freeze: [1], unfreezeEvery: 1, lrMultipliers: { 1: 0.5 } },
      epochs: 3,
      scales: (epoch) => [epoch < 1 ? 0 : 0.5, 1],
    });
    expect(frozenSeen).toEqual([[1], [], []]);
  });

  it('a frozen layer\'s optimizer state stays untouched: momentum and weight decay start when it thaws', async () => {
    await compare({
      optimizer: { name: 'momentum', lr: 0.1, momentum: 0.9, weightDecay: 0.2 },
      transfer: { freeze: [1], unfreezeEvery: 2 },
      epochs: 3,
      scales: (epoch) => [epoch < 2 ? 0 : 1, 1],
    });
  });

  it('freezing prunes the backward pass: no gradient kernels for the frozen layer, none below it', async () => {
    const { gpu } = await testGpu();
    const plan = async (freeze?: number[]) => {
      const trainer = await Trainer.create(gpu, data, undefined, { model: { layers: [12, 9, 8, 10], activation: 'tanh' }, batchSize: 10, freeze, autotune: false, fuseHead: true });
      const text = trainer.formatPlan();
      trainer.destroy();
      return text;
    };
    // Layers 0 Flatten, 1 Linear, 2 Tanh, 3 Linear, 4 Tanh, 5 Linear; dispatches end with what they write.
    const gradientsOf = (text: string) => text.split('\n').filter((l) => /^\s*\d+ /.test(l)).map((l) => l.trim().split(/\s+/).at(-1)!).filter((w) => /→d/.test(w));
    const full = gradientsOf(await plan());
    const frozen = gradientsOf(await plan([1, 3]));
    expect(full).toEqual(['linear_softmax_xent→dl5,dl3', 'matmul→d5.weight,d5.bias', 'matmul→dl1', 'matmul→d3.weight,d3.bias', 'matmul→d1.weight,d1.bias']);
    // The head alone trains: the fused head writes dlogits only (no input gradient).
    expect(frozen).toEqual(['linear_softmax_xent→dl5', 'matmul→d5.weight,d5.bias']);
  });
});

describe('a new head over loaded weights', () => {
  it('loads the body strictly, starts a fresh output layer sized to the data, and trains it', async () => {
    const { gpu } = await testGpu();
    const model = { layers: widths, activation: 'tanh' as const };
    const source = await Trainer.create(gpu, data, undefined, { model, batchSize: 10, seed: 1, autotune: false });
    await source.fit({ epochs: 1, evaluate: false });
    const saved = await source.weights();
    const bytes = encodeSafetensors(await source.stateDict());
    source.destroy();
    const five = syntheticDataset(20, 3, 4, 9, 5);
    const target = await Trainer.create(gpu, five, undefined, { model, batchSize: 10, seed: 2, weights: bytes, newHead: true, freeze: [1], autotune: false });
    const start = await target.weights();
    expect([...start.get('1.weight')!]).toEqual([...saved.get('1.weight')!]);
    expect(start.get('3.weight')!.length).toBe(5 * 9);
    expect([...start.get('3.weight')!]).not.toEqual([...saved.get('3.weight')!.slice(0, 45)]);
    await target.fit({ epochs: 1, evaluate: false });
    const end = await target.weights();
    target.destroy();
    expect([...end.get('1.weight')!], 'the frozen body stays as loaded').toEqual([...saved.get('1.weight')!]);
    expect([...end.get('3.weight')!]).not.toEqual([...start.get('3.weight')!]);
  });

  it('refuses a new head without weights, and a model whose last layer with parameters is not a Linear', async () => {
    const { gpu } = await testGpu();
    await expect(Trainer.create(gpu, data, undefined, { model: { layers: widths }, newHead: true })).rejects.toThrow(/newHead .*pass weights/);
    const normLast = Model.create([{ type: 'Flatten' }, { type: 'Linear', in_features: 12, out_features: 10 }, { type: 'BatchNorm1d', num_features: 10 }], [1, 3, 4]);
    expect(() => withNewHead(normLast, 5)).toThrow(/must be a Linear; layer 2 is a BatchNorm1d/);
  });
});

describe('transfer options are checked against the model before any GPU work', () => {
  const model = Model.create(mlpLayers({ layers: [12, 9, 10], activation: 'relu' }), [12]);
  const cases: [string, Parameters<typeof TransferPlan.resolve>[1], RegExp][] = [
    ['a layer past the end', { freeze: [7] }, /freeze names layer 7, but the model's layers are 0 to 3/],
    ['only layers without parameters', { freeze: [0, 2] }, /none of which has parameters/],
    ['every layer with parameters', { freeze: [0, 1, 2, 3] }, /covers every layer with parameters \(1, 3\): nothing would train/],
    ['unfreezing without frozen layers', { unfreezeEvery: 2 }, /unfreezeEvery unfreezes frozen layers; freeze some layers too \(freeze\)/],
    ['a fractional unfreezing period', { freeze: [1], unfreezeEvery: 1.5 }, /whole number of epochs/],
    ['a zero multiplier', { lrMultipliers: { 1: 0 } }, /finite number > 0 \(freeze the layer to stop it\)/],
    ['a multiplier on an activation only', { lrMultipliers: { 2: 0.5 } }, /names layer 2 \(ReLU\), none of which has parameters/],
  ];
  for (const [what, options, message] of cases) {
    it(what, () => {
      expect(() => TransferPlan.resolve(model, options)).toThrow(ConfigError);
      expect(() => TransferPlan.resolve(model, options)).toThrow(message);
    });
  }

  it('progressive unfreezing releases the highest frozen layer first', () => {
    const deep = Model.create(mlpLayers({ layers: [12, 9, 8, 7, 10], activation: 'relu' }), [12]);
    const plan = TransferPlan.resolve(deep, { freeze: [0, 1, 2, 3, 4, 5], unfreezeEvery: 2 });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((e) => plan.frozenLayers(e))).toEqual([[1, 3, 5], [1, 3, 5], [1, 3], [1, 3], [1], [1], [], []]);
  });
});
