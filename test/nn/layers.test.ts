// Norm and dropout layers inside the model: the graph each configuration builds, a whole GPU training step
// (forward, autodiff, fused backward, SGD, running statistics) against a float64 reference, and the
// evaluation mode (no dropout, batch norm on running statistics).
import { describe, expect, it } from 'vitest';
import { Rng, shuffledIndices } from '../../src/data/rng';
import type { MlpConfig } from '../../src/nn/mlp';
import { toModel } from '../../src/nn/model_input';
import { ParameterArena } from '../../src/nn/parameters';
import { fuse } from '../../src/scheduler/fuse';
import { gradientCheck } from '../../src/train/gradcheck';
import { Trainer } from '../../src/train/trainer';
import { expectAllClose, expectValueClose, maxAbs } from '../helpers/compare';
import { testGpu } from '../helpers/gpu';
import { chainTolerance, float32FiniteDifferenceTolerance, mlpForwardSums, mlpStepSums, runningStatsTolerance, sgdUpdateTolerance } from '../tolerances';
import { syntheticDataset } from '../helpers/synthetic';
import { mnistLikeSource, modelGraph } from '../helpers/step_graph';
import {
  activateGradRef,
  activateRef,
  batchNormBackwardRef,
  batchNormEvalRef,
  batchNormRef,
  columnSumRef,
  dropoutMaskRef,
  layerNormBackwardRef,
  layerNormRef,
  matmulRef,
  softmaxXentRef,
} from '../helpers/reference';

const source = mnistLikeSource(100, 'train', 0, 10);
const smallSource = { ...source, features: 15, sampleShape: [1, 3, 5], width: 5, height: 3 };
const graphOf = (config: MlpConfig, rows: number, training: boolean) => modelGraph(config, rows, training, smallSource);
const opsOf = (config: MlpConfig, training: boolean) => graphOf(config, 8, training).graph.nodes.map((n) => n.op).filter((op) => op !== 'reshape');

describe('the model graph', () => {
  const model: MlpConfig = { layers: [15, 9, 7, 10], norm: 'batch', dropout: 0.2 };

  it('orders each hidden layer linear → norm → activation → dropout, and evaluation drops dropout', () => {
    expect(opsOf(model, true).slice(0, 11)).toEqual(['gather', 'matmul', 'batch_norm', 'activation', 'dropout', 'matmul', 'batch_norm', 'activation', 'dropout', 'matmul', 'softmax_xent']);
    const evaluation = graphOf(model, 8, false).graph;
    expect(opsOf(model, false)).toEqual(['gather', 'matmul', 'batch_norm', 'activation', 'matmul', 'batch_norm', 'activation', 'matmul', 'softmax_xent']);
    expect(evaluation.nodes.filter((n) => n.op === 'batch_norm').every((n) => n.attrs.training === false)).toBe(true);
    expect(opsOf({ ...model, norm: 'layer' }, false)).toEqual(['gather', 'matmul', 'layer_norm', 'activation', 'matmul', 'layer_norm', 'activation', 'matmul', 'softmax_xent']);
  });

  it('fuses: the activation into the matmul only without a norm; the activation gradient into the dropout backward', () => {
    const ops = (config: MlpConfig) =>
      fuse(graphOf(config, 8, true).graph.nodes)
        .filter((n) => n.op !== 'reshape')
        .map((n) => (n.attrs.act ? `${n.op}+act` : n.attrs.actGrad ? `${n.op}+actGrad` : n.op));
    const plain = ops({ layers: [15, 9, 10], dropout: 0.5 });
    expect(plain).toEqual(['gather', 'matmul+act', 'dropout', 'linear_softmax_xent', 'matmul', 'dropout_grad+actGrad', 'matmul']);
    const normed = ops({ layers: [15, 9, 10], norm: 'batch' });
    expect(normed).toEqual(['gather', 'matmul', 'batch_norm', 'activation', 'linear_softmax_xent+actGrad', 'matmul', 'batch_norm_grad', 'matmul']);
  });

  it('names parameters and buffers as torch.nn.Sequential does; γ and running variance start at 1; norm parameters are not decayed', () => {
    const m = toModel(model, [1, 3, 5]);
    expect(m.all().map((l) => l.type)).toEqual(['Flatten', 'Linear', 'BatchNorm1d', 'ReLU', 'Dropout', 'Linear', 'BatchNorm1d', 'ReLU', 'Dropout', 'Linear']);
    const arena = new ParameterArena(m.parameters);
    expect(arena.slots.map((s) => s.name)).toEqual(['1.weight', '5.weight', '9.weight', '1.bias', '2.weight', '2.bias', '5.bias', '6.weight', '6.bias', '9.bias']);
    const state = new ParameterArena(m.buffers);
    expect(state.slots.map((s) => s.name)).toEqual(['2.running_mean', '2.running_var', '6.running_mean', '6.running_var']);
    expect(m.counters).toEqual(['2.num_batches_tracked', '6.num_batches_tracked']);
    const data = m.initialParameters(arena, 1, () => {});
    const slice = (name: string) => [...data.slice(arena.slot(name).offset, arena.slot(name).offset + arena.slot(name).size)];
    expect(slice('2.weight')).toEqual(new Array(9).fill(1));
    expect(slice('2.bias')).toEqual(new Array(9).fill(0));
    const buffers = m.initialBuffers(state);
    const stateSlice = (name: string) => [...buffers.slice(state.slot(name).offset, state.slot(name).offset + state.slot(name).size)];
    expect(stateSlice('6.running_var')).toEqual(new Array(7).fill(1));
    expect(stateSlice('2.running_mean')).toEqual(new Array(9).fill(0));
    const ln = new ParameterArena(toModel({ ...model, norm: 'layer' }, [1, 3, 5]).parameters);
    expect(ln.slots.filter((s) => ['2', '6'].includes(s.name.split('.')[0])).map((s) => s.name)).toEqual(['2.weight', '2.bias', '6.weight', '6.bias']);
    expect(ln.slots.filter((s) => s.name.endsWith('.bias') || ['2', '6'].includes(s.name.split('.')[0])).every((s) => !s.decay)).toBe(true);
  });

  it('refuses one-row training batches for batch norm, naming batch sizes that work', async () => {
    const { gpu } = await testGpu();
    const data = syntheticDataset(100, 3, 5, 1);
    const create = (config: MlpConfig, batchSize: number) => Trainer.create(gpu, data, undefined, { model: config, batchSize, autotune: false });
    await expect(create(model, 1)).rejects.toThrow(/batch size of 1/);
    // 100 = 3·33 + 1: the last batch would hold one row.
    await expect(create(model, 33)).rejects.toThrow(/last batch of 1 row.*batch size such as 32, 34/);
    expect(toModel(model, [1, 3, 5]).minTrainingRows).toBe(2);
    expect(toModel({ ...model, norm: 'layer' }, [1, 3, 5]).minTrainingRows).toBe(1);
    // Evaluation of a single row is fine: it uses the running statistics.
    expect(() => graphOf(model, 1, false)).not.toThrow();
  });

  it('the trainer refuses such a run before any GPU work', async () => {
    const { gpu } = await testGpu();
    const data = syntheticDataset(61, 3, 5, 1);
    await expect(Trainer.create(gpu, data, undefined, { model: { layers: [15, 8, 10], norm: 'batch' }, batchSize: 20 })).rejects.toThrow(/last batch of 1 row/);
  });
});

interface RefModel {
  layers: { weight: Float64Array; bias: Float64Array; gamma?: Float64Array; beta?: Float64Array; runningMean?: Float64Array; runningVar?: Float64Array; in: number; out: number; dropoutSalt?: number }[];
}

/** A float64 training step of the whole model, written out layer by layer. */
function referenceStep(model: RefModel, x: Float64Array, labels: ArrayLike<number>, rows: number, config: Required<Pick<MlpConfig, 'activation' | 'norm' | 'dropout'>>, seed: number, step: number) {
  const { activation, norm, dropout } = config;
  const last = model.layers.length - 1;
  const saved: { input: Float64Array; z: Float64Array; n: Float64Array; mask?: Float64Array }[] = [];
  let h = x;
  model.layers.forEach((layer, i) => {
    const z = matmulRef(h, layer.weight, rows, layer.out, layer.in, false, true).map((v, j) => v + layer.bias[j % layer.out]);
    if (i === last) {
      saved.push({ input: h, z, n: z });
      h = z;
      return;
    }
    let n: Float64Array<ArrayBufferLike> = z;
    if (norm === 'batch') n = batchNormRef(z, layer.gamma!, layer.beta!, rows, layer.out).y;
    if (norm === 'layer') n = layerNormRef(z, layer.gamma!, layer.beta!, rows, layer.out).y;
    let a = n.map((v) => activateRef(v, activation));
    const mask = dropout > 0 ? dropoutMaskRef(rows * layer.out, dropout, seed, step, layer.dropoutSalt!) : undefined;
    if (mask) a = a.map((v, j) => v * mask[j]);
    saved.push({ input: h, z, n, mask });
    h = a;
  });
  const { lossSum, dlogits } = softmaxXentRef(h, labels, rows, model.layers[last].out);
  const grads = model.layers.map(() => ({}) as { weight: Float64Array; bias: Float64Array; gamma?: Float64Array; beta?: Float64Array });
  let d: Float64Array = dlogits;
  for (let i = last; i >= 0; i--) {
    const layer = model.layers[i];
    const s = saved[i];
    if (i < last) {
      if (s.mask) d = d.map((v, j) => v * s.mask![j]);
      d = d.map((v, j) => v * activateGradRef(s.n[j], activation));
      if (norm !== 'none') {
        const g = (norm === 'batch' ? batchNormBackwardRef : layerNormBackwardRef)(d, s.z, layer.gamma!, rows, layer.out);
        grads[i].gamma = g.dgamma;
        grads[i].beta = g.dbeta;
        d = g.dx;
      }
    }
    grads[i].weight = matmulRef(d, s.input, layer.out, layer.in, rows, true, false);
    grads[i].bias = columnSumRef(d, rows, layer.out);
    d = matmulRef(d, layer.weight, rows, layer.in, layer.out);
  }
  return { loss: lossSum / rows, grads, zs: saved.map((s) => s.z) };
}

/** The trainer's MLP as float64 reference layers: each Linear with the norm and dropout that follow it. */
async function referenceModel(trainer: Trainer): Promise<RefModel> {
  const state = new Map((await trainer.stateDict()).map((t) => [t.name, t.data]));
  const get = (name: string) => (state.has(name) ? Float64Array.from(state.get(name) as Float32Array) : undefined);
  const all = trainer.model.layers;
  return {
    layers: all.flatMap((l, i) => {
      if (l.type !== 'Linear') return [];
      const next = all.slice(i + 1);
      const norm = next[0] && ['BatchNorm1d', 'LayerNorm'].includes(next[0].type) ? next[0].path : undefined;
      const until = next.findIndex((n) => n.type === 'Linear');
      const dropout = next.slice(0, until < 0 ? undefined : until).find((n) => n.type === 'Dropout');
      return [{
        weight: get(`${l.path}.weight`)!,
        bias: get(`${l.path}.bias`)!,
        gamma: norm ? get(`${norm}.weight`) : undefined,
        beta: norm ? get(`${norm}.bias`) : undefined,
        runningMean: norm ? get(`${norm}.running_mean`) : undefined,
        runningVar: norm ? get(`${norm}.running_var`) : undefined,
        in: l.args.in_features as number,
        out: l.args.out_features as number,
        dropoutSalt: dropout?.salt,
      }];
    }),
  };
}

describe('a GPU training step with norm and dropout matches the float64 reference', () => {
  const cases = [
    { norm: 'batch', dropout: 0, activation: 'relu' },
    { norm: 'batch', dropout: 0.3, activation: 'tanh' },
    { norm: 'layer', dropout: 0, activation: 'tanh' },
    { norm: 'layer', dropout: 0.5, activation: 'relu' },
    { norm: 'none', dropout: 0.3, activation: 'leaky_relu' },
  ] as const;
  for (const config of cases) {
    it(`one full-batch SGD step, ${config.norm} norm, dropout ${config.dropout}, ${config.activation}`, async () => {
      const { gpu } = await testGpu();
      const rows = 24;
      const data = syntheticDataset(rows, 3, 5, 2);
      const lr = 0.5;
      const seed = 3;
      const trainer = await Trainer.create(gpu, data, undefined, {
        model: { layers: [15, 9, 7, 10], init: 'xavier_normal', ...config },
        batchSize: rows,
        optimizer: { lr },
        seed,
      });
      const before = await referenceModel(trainer);
      // Dropout masks are per batch row, so the reference needs the rows in the epoch's shuffled order
      // (the trainer's shuffling generator is seeded with seed ^ 0x5eed).
      const order = shuffledIndices(rows, new Rng(seed ^ 0x5eed));
      const x = new Float64Array(rows * 15);
      order.forEach((sample, r) => x.set(Array.from(data.x.subarray(sample * 15, sample * 15 + 15), (v) => v / 255), r * 15));
      const labels = Array.from(order, (sample) => data.labels![sample]);
      const { loss, grads, zs } = referenceStep(before, x, labels, rows, config, seed, 0);
      const [report] = await trainer.fit({ epochs: 1 });
      // The chain of float32 sums: mlpStepSums, plus the norms' statistics over their groups (twice: mean
      // and variance forward, Σdy and Σdy·x̂ backward), over the batch (batch norm) or a row (layer norm).
      const widths = [15, 9, 7, 10];
      const normSums = config.norm === 'none' ? [] : widths.slice(1, -1).flatMap((w) => (config.norm === 'batch' ? [rows, rows] : [w, w]));
      expectValueClose(report.loss, loss, chainTolerance([...mlpForwardSums(widths), ...normSums], loss), 'epoch loss');
      const gScale = maxAbs(grads.flatMap((g) => [...g.weight, ...g.bias, ...(g.gamma ?? []), ...(g.beta ?? [])]));
      const tol = sgdUpdateTolerance(1, lr, chainTolerance([...mlpStepSums(widths, rows), ...normSums, ...normSums], gScale), gScale);
      const after = await referenceModel(trainer);
      after.layers.forEach((layer, i) => {
        const b = before.layers[i];
        expectAllClose(layer.weight, b.weight.map((w, j) => w - lr * grads[i].weight[j]), tol, `fc${i + 1}.weight`);
        // Before batch norm the bias has a zero gradient (the mean is subtracted); float32 leaves a cancellation
        // residue inside the same bound.
        expectAllClose(layer.bias, b.bias.map((w, j) => w - lr * grads[i].bias[j]), tol, `fc${i + 1}.bias`);
        if (grads[i].gamma) {
          expectAllClose(layer.gamma!, b.gamma!.map((w, j) => w - lr * grads[i].gamma![j]), tol, `γ${i + 1}`);
          expectAllClose(layer.beta!, b.beta!.map((w, j) => w - lr * grads[i].beta![j]), tol, `β${i + 1}`);
        }
        // Batch norm's hidden layers, and only they, carry running statistics.
        expect(b.runningMean !== undefined, `layer ${i} running statistics`).toBe(config.norm === 'batch' && i < after.layers.length - 1);
        if (b.runningMean) {
          // Updated by the forward pass from this step's batch statistics; untouched by the optimizer.
          // The batch statistics of z, itself the output of a chain of sums (the forward pass to layer i).
          const stats = batchNormRef(zs[i], b.gamma!, b.beta!, rows, layer.out);
          const running = runningStatsTolerance(rows, 0.1);
          const zTol = chainTolerance([...mlpForwardSums(widths.slice(0, i + 2)), ...normSums.slice(0, 2 * i)], maxAbs(zs[i]));
          expectAllClose(layer.runningMean!, stats.mean.map((m) => 0.1 * m), { atol: running.mean.atol * maxAbs(stats.variance.map(Math.sqrt)) + 0.1 * zTol.atol, rtol: running.mean.rtol }, 'running mean');
          expectAllClose(layer.runningVar!, stats.variance.map((v) => 0.9 + (0.1 * v * rows) / (rows - 1)), { atol: 0.2 * zTol.atol * maxAbs(zs[i]), rtol: running.variance.rtol + 2 * zTol.rtol }, 'running variance');
        }
      });
      trainer.destroy();
    });
  }
});

describe('running statistics are buffers', () => {
  it('no optimizer changes them: with momentum 0 they stay exactly 0 and 1 under every optimizer, decay and clipping', async () => {
    const { gpu } = await testGpu();
    const data = syntheticDataset(40, 3, 5, 8);
    for (const [name, decay] of [['sgd', 'l2'], ['nesterov', 'l1'], ['adagrad', 'l2'], ['rmsprop', 'l1'], ['adam', 'l2'], ['adamw', 'decoupled']] as const) {
      const trainer = await Trainer.create(gpu, data, undefined, {
        model: { layers: [15, 6, 10], norm: 'batch', normMomentum: 0 },
        optimizer: { name, lr: 0.1, weightDecay: 0.1, decay, clipNorm: 0.5, clipValue: 0.01 },
        batchSize: 16,
        seed: 1,
      });
      await trainer.fit({ epochs: 2, evaluate: false });
      const state = new Map((await trainer.stateDict()).map((t) => [t.name, [...(t.data as Float32Array)]]));
      expect(state.get('2.running_mean'), name).toEqual(new Array(6).fill(0));
      expect(state.get('2.running_var'), name).toEqual(new Array(6).fill(1));
      expect(state.get('2.weight')!.some((v) => v !== 1), name).toBe(true); // while γ did train
      trainer.destroy();
    }
  });
});

describe('evaluation mode', () => {
  it('dropout is the identity and batch norm uses the running statistics', async () => {
    const { gpu } = await testGpu();
    const train = syntheticDataset(90, 3, 5, 4);
    const test = syntheticDataset(37, 3, 5, 5);
    const model: MlpConfig = { layers: [15, 12, 10], norm: 'batch', dropout: 0.5, activation: 'relu' };
    const trainer = await Trainer.create(gpu, train, test, { model, batchSize: 16, optimizer: { lr: 0.1 }, seed: 9, evalBatchSize: 10 });
    await trainer.fit({ epochs: 2, evaluate: false });
    const m = await referenceModel(trainer);
    // The running statistics moved away from their initial 0 and 1.
    expect(m.layers[0].runningMean!.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    const x = Float64Array.from(test.x, (v) => v / 255);
    const [l1, l2] = m.layers;
    const z1 = matmulRef(x, l1.weight, test.count, 12, 15, false, true).map((v, j) => v + l1.bias[j % 12]);
    const h = batchNormEvalRef(z1, l1.gamma!, l1.beta!, l1.runningMean!, l1.runningVar!, test.count, 12).map((v) => activateRef(v, 'relu'));
    const logits = matmulRef(h, l2.weight, test.count, 10, 12, false, true).map((v, j) => v + l2.bias[j % 10]);
    const ref = softmaxXentRef(logits, test.labels!, test.count, 10);
    const result = await trainer.evaluate();
    // Evaluation batches of 10: the per-batch loss sums accumulate over 4 batches (one more rounding each).
    expectValueClose(result.loss, ref.lossSum / test.count, chainTolerance([...mlpForwardSums([15, 12, 10]), 10], ref.lossSum / test.count), 'test loss');
    expect(result.accuracy).toBe(ref.correct / test.count);
    // Evaluating changes nothing (no running-statistics update, no randomness): the same figures again.
    expect(await trainer.evaluate()).toEqual(result);
    trainer.destroy();
  });
});

describe('gradient check of the whole model', () => {
  for (const norm of ['batch', 'layer'] as const) {
    it(`${norm} norm with dropout: analytic gradients match finite differences`, async () => {
      const { gpu } = await testGpu();
      const results = await gradientCheck(gpu, { layers: [15, 8, 6, 10], activation: 'tanh', init: 'xavier_normal', norm, dropout: 0.2 }, syntheticDataset(12, 3, 5, 6), {
        samplesPerParameter: 3,
        epsilon: 1e-2,
        seed: 2,
      });
      expect(results.length).toBeGreaterThan(20);
      // The float32 loss of a 15-8-6-10 model with norms (their group sums: 12 rows or a row of 8 and 6).
      const lossTol = chainTolerance([...mlpForwardSums([15, 8, 6, 10]), 12, 12, 8, 6], 3).atol;
      expectAllClose(results.map((r) => r.analytic), results.map((r) => r.numeric), float32FiniteDifferenceTolerance(1e-2, lossTol), 'analytic vs numeric');
      for (const r of results) expect(r.relativeError, `${r.parameter}[${r.index}] ${r.analytic} vs ${r.numeric}`).toBeLessThan(3e-2);
      // Running statistics are buffers, not parameters: the check never sees them.
      expect(results.some((x) => x.parameter.includes('running'))).toBe(false);
    });
  }
});
