/**
 * Every 1-D kernel at a dispatch of more than 65,535 workgroups, so grid1d folds it into 2-D
 * ([⌈g/2⌉, 2, 1] for g = 65,536 groups) and the shader's flat index gid.x + gid.y·groups.x·WORKGROUP_SIZE
 * is what reaches the last elements. The 1-D kernels (those lowered with grid1d, src/kernels/lower.ts and
 * src/optim/optimizer.ts): activation forward and backward, dropout forward and backward, gather (bytes and
 * WORDS), gather_augment, mixup_inputs and the optimizer, 256 invocations a workgroup; layer norm forward
 * and backward and column_sum, 64 a workgroup. (softmax_xent and mixup_targets run a workgroup per 256
 * rows, at most 65,535; matmul tiles in 2-D; batch norm and grad_norm launch one workgroup per feature
 * block or slot: none of them goes through grid1d.) Sizes are the smallest that fold: 65,535·256 + 1 invocations (65,535·64 + 1), which
 * for WORDS gather and the optimizer (4 floats an invocation) is 67M floats. References are computed element
 * by element, outputs poisoned with NaN as everywhere.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { activationKinds } from '../../src/graph/ops';
import { optimizerHyperLayout } from '../../src/kernels/catalog';
import { GPU_GRAD_NORM, gradChunkCount, slotTable } from '../../src/optim/optimizer';
import { oneSlot } from '../helpers/optim_reference';
import { grid1d } from '../../src/kernels/kernel';
import { dropoutParams } from '../../src/kernels/lower';
import { augmentRowRef, type AugmentSettings } from '../helpers/augment_reference';
import { expectAllCloseWith } from '../helpers/compare';
import { randomArray, runKernel, stepArg } from '../helpers/gpu';
import { activateGradRef, activateRef, layerNormBackwardRef, layerNormRef, pcgRef } from '../helpers/reference';
import { ACTIVATION, DROPOUT, activationGradTolerance, augmentTolerance, gatherTolerance, mixupTolerance, normInputGradTolerance, normOutputTolerance, normParamGradTolerance, rstdTolerance, sumTolerance, uniformRms, U } from '../tolerances';
import { Graph } from '../../src/graph/graph';
import { longestRun, runNode } from '../helpers/run_node';

const N256 = 65535 * 256 + 1;
/** Unused bindings of a kernel (gather's spare chunks, its affine map when there is none). */
const dummies = (n: number) => Array.from({ length: n }, () => ({ data: new Uint32Array(4) }));
const N64 = 65535 * 64 + 1;
const step = (s: { step?: number; batch_start?: number; seed?: number; mix_lambda?: number; lr?: number }) =>
  stepArg(s);

it('the sizes fold: more than 65,535 workgroups, two rows of them', () => {
  expect(grid1d(N256, 256)).toEqual([32768, 2, 1]);
  expect(grid1d(N64, 64)).toEqual([32768, 2, 1]);
});

/** Bytes packed four to a u32 (the layout GpuDataset uploads). */
function packed(bytes: Uint8Array): Uint32Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return new Uint32Array(padded.buffer);
}

describe('1-D kernels past 65,535 workgroups (folded into 2-D)', () => {
  it(`activation forward (elu) and backward (tanh), ${N256} elements`, async () => {
    const x = randomArray(N256, new Rng(1), 4);
    const [y] = await runKernel('activationForward', { ACT: activationKinds.elu }, [{ data: x }, { data: new Float32Array(4) }, { output: N256 }], { count: N256, alpha: 0.7 }, grid1d(N256, 256));
    expectAllCloseWith(y, (i) => activateRef(x[i], 'elu', 0.7), ACTIVATION, 'elu(x)');
    const t = Float32Array.from(x, Math.tanh);
    const dy = randomArray(N256, new Rng(2));
    const [dx] = await runKernel('activationBackward', { ACT: activationKinds.tanh }, [{ data: dy }, { data: t }, { output: N256 }], { count: N256, alpha: 0 }, grid1d(N256, 256));
    expectAllCloseWith(dx, (i) => dy[i] * activateGradRef(x[i], 'tanh'), activationGradTolerance(1), 'dy·tanh′(x)');
  });

  it(`dropout forward and backward (fused relu gradient), ${N256} elements`, async () => {
    const x = randomArray(N256, new Rng(3));
    const [rate, seed, stepIndex, salt] = [0.3, 5, 7, 2];
    const threshold = Math.min(0xffffffff, Math.round(rate * 2 ** 32));
    const key = pcgRef((salt ^ pcgRef((stepIndex ^ pcgRef(seed)) >>> 0)) >>> 0);
    const mask = (i: number) => (pcgRef((key ^ pcgRef(i)) >>> 0) >= threshold ? 1 / (1 - rate) : 0);
    const uniform = step({ step: stepIndex, seed });
    const [y] = await runKernel('dropoutForward', { ACT_GRAD: 0 }, [{ data: x }, { data: new Float32Array(4) }, { output: N256 }, uniform], dropoutParams(N256, rate, salt), grid1d(N256, 256));
    expectAllCloseWith(y, (i) => x[i] * mask(i), DROPOUT, 'x ⊙ mask');
    const relu = Float32Array.from(x, (v) => Math.max(v, 0));
    const [dz] = await runKernel('dropoutBackward', { ACT_GRAD: activationKinds.relu }, [{ data: x }, { data: relu }, { output: N256 }, uniform], dropoutParams(N256, rate, salt), grid1d(N256, 256));
    expectAllCloseWith(dz, (i) => x[i] * mask(i) * (x[i] > 0 ? 1 : 0), DROPOUT, 'dy ⊙ mask ⊙ relu′');
  });

  it(`gather, bytes: ${N256} values (13 features, a later batch of a reversed order)`, async () => {
    const features = 13;
    const rows = Math.ceil(N256 / features);
    const count = rows + 5;
    const rng = new Rng(4);
    const images = Uint8Array.from({ length: count * features }, () => rng.nextBelow(256));
    const perm = Uint32Array.from({ length: count }, (_, i) => count - 1 - i);
    const labels = Uint32Array.from({ length: count }, (_, i) => (i * 7) % 1000);
    const [scale, shift] = [Math.fround(1 / (255 * 0.3081)), Math.fround(-0.1307 / 0.3081)];
    const [x, y] = await runKernel(
      'gather',
      { WORDS: false },
      [{ data: packed(images) }, ...dummies(3), { data: perm }, { data: labels }, { output: rows * features }, { output: rows, dtype: 'u32' }, step({ batch_start: 5 })],
      { rows, features, scale, shift, samples_per_chunk: count, rows_offset: 0, row_width: 1 },
      grid1d(rows * features, 256),
    );
    expect(grid1d(rows * features, 256)[1]).toBe(2);
    expectAllCloseWith(x, (i) => images[perm[5 + Math.floor(i / features)] * features + (i % features)] * scale + shift, gatherTolerance(scale, shift), 'x');
    expectAllCloseWith(y, (r) => labels[perm[5 + r]], { atol: 0, rtol: 0 }, 'labels');
  });

  it(`gather, WORDS: ${N256} words of 4 features`, async () => {
    const rows = N256;
    const rng = new Rng(5);
    const images = Uint8Array.from({ length: rows * 4 }, () => rng.nextBelow(256));
    const perm = Uint32Array.from({ length: rows }, (_, i) => (i * 7919) % rows);
    const [x] = await runKernel(
      'gather',
      { WORDS: true },
      [{ data: new Uint32Array(images.buffer) }, ...dummies(3), { data: perm }, { data: new Uint32Array(rows) }, { output: rows * 4 }, { output: rows, dtype: 'u32' }, step({})],
      { rows, features: 4, scale: 1, shift: 0, samples_per_chunk: rows, rows_offset: 0, row_width: 1 },
      grid1d(rows, 256),
    );
    expectAllCloseWith(x, (i) => images[perm[i >> 2] * 4 + (i & 3)], { atol: 0, rtol: 0 }, 'x (exact bytes)');
  });

  it(`gather, targets: ${N256} target values (257 a row, 1 feature): the rows set the dispatch`, async () => {
    const width = 257;
    const rows = Math.ceil(N256 / width);
    const count = rows + 3;
    const rng = new Rng(8);
    const targets = Float32Array.from({ length: count * width }, () => rng.normal());
    const perm = Uint32Array.from({ length: count }, (_, i) => (i * 7919) % count);
    const [, y] = await runKernel(
      'gather',
      { FLOAT: true },
      [{ data: new Uint32Array(count) }, ...dummies(3), { data: perm }, { data: new Uint32Array(targets.buffer) }, { output: rows }, { output: rows * width, dtype: 'u32' }, step({ batch_start: 3 })],
      { rows, features: 1, scale: 1, shift: 0, samples_per_chunk: count, rows_offset: 0, row_width: width },
      grid1d(rows * width, 256),
    );
    expect(grid1d(rows * width, 256)[1]).toBe(2);
    const got = new Float32Array(y.buffer, y.byteOffset, y.length);
    expectAllCloseWith(got, (i) => targets[perm[3 + Math.floor(i / width)] * width + (i % width)], { atol: 0, rtol: 0 }, 'targets');
  });

  it(`gather_augment: ${N256} values (7×9 images, ±0.3 rad, ±1.5 px)`, async () => {
    const s: AugmentSettings = { width: 9, height: 7, maxShift: 1.5, maxRotate: Math.fround(0.3), noiseStd: 0, scale: Math.fround(1 / 255), shift: 0 };
    const features = 63;
    const rows = Math.ceil(N256 / features);
    const rng = new Rng(6);
    const images = Uint8Array.from({ length: rows * features }, () => rng.nextBelow(256));
    const perm = Uint32Array.from({ length: rows }, (_, i) => i);
    const [x] = await runKernel(
      'gatherAugment',
      {},
      [{ data: packed(images) }, { data: perm }, { data: new Uint32Array(rows) }, { output: rows * features }, { output: rows, dtype: 'u32' }, step({ step: 3, seed: 9 })],
      { rows, features, scale: s.scale, shift: 0, width: 9, height: 7, max_shift: s.maxShift, max_rotate: s.maxRotate, noise_std: 0, rows_offset: 0, row_width: 1 },
      grid1d(rows * features, 256),
    );
    let cached = -1;
    let values: Float64Array<ArrayBufferLike> = new Float64Array(0);
    expectAllCloseWith(
      x,
      (i) => {
        const r = Math.floor(i / features);
        if (r !== cached) [cached, values] = [r, augmentRowRef(images.subarray(r * features, (r + 1) * features), r, 9, 3, s).values];
        return values[i % features];
      },
      augmentTolerance(s),
      'augmented x',
    );
  });

  it(`mixup_inputs: 3 rows × ${Math.ceil(N256 / 3)} features`, async () => {
    const [rows, features] = [3, Math.ceil(N256 / 3)];
    const x = randomArray(rows * features, new Rng(7));
    const lambda = Math.fround(0.7);
    const [mixed] = await runKernel('mixupInputs', {}, [{ data: x }, { output: rows * features }, step({ mix_lambda: lambda })], { rows, features }, grid1d(rows * features, 256));
    expectAllCloseWith(mixed, (i) => lambda * x[i] + (1 - lambda) * x[(rows - 1 - Math.floor(i / features)) * features + (i % features)], mixupTolerance(1), 'λ·x + (1 − λ)·x_partner');
  });

  it(`optimizer (SGD with momentum and L2 decay): ${N256} vec4s = ${4 * N256} floats`, async () => {
    const count = 4 * N256;
    const decayCount = 4 * 65536 * 128; // the first half (in vec4s) decays
    const rng = new Rng(8);
    const w = randomArray(count, rng);
    const g = randomArray(count, rng, 0.5);
    const v = randomArray(count, rng, 0.1);
    const [lr, mu, wd] = [Math.fround(0.1), Math.fround(0.9), Math.fround(0.01)];
    const hyper = new Uint32Array(optimizerHyperLayout.pack({ beta1: mu, beta2: 0.999, eps: 1e-8, weight_decay: wd, decay_mode: 1, clip_norm: 0, clip_value: 0, nesterov: 0, log_beta1: 0, log_beta2: 0 }));
    const [w1, v1] = (await runKernel(
      'optimizer',
      { OPTIMIZER: 0 },
      [{ data: g }, { data: new Float32Array(gradChunkCount(oneSlot(count), GPU_GRAD_NORM.chunkVec4)) }, { output: count, initial: w }, { output: count, initial: v }, { output: 4 }, { output: 5, initial: new Float32Array(5) }, { data: slotTable(oneSlot(count)) }, { data: hyper, uniform: true }, step({ lr })],
      { count: count / 4, decay_count: decayCount / 4, slot_count: 1, chunk_count: gradChunkCount(oneSlot(count), GPU_GRAD_NORM.chunkVec4), chunk_vec4: GPU_GRAD_NORM.chunkVec4 },
      grid1d(count / 4, 256),
    )) as Float32Array[];
    const gradient = (i: number) => g[i] + (i < decayCount ? wd * w[i] : 0);
    // One step: v′ = μ·v + g (+ λ·w): 3 roundings of terms ≤ 0.1·0.9 + 0.5 + 0.01 (≤ 2u·0.6); w′ = w − lr·v′: 2 more.
    expectAllCloseWith(v1, (i) => mu * v[i] + gradient(i), { atol: 3 * U * 0.6, rtol: U }, 'velocity');
    expectAllCloseWith(w1, (i) => w[i] - lr * (mu * v[i] + gradient(i)), { atol: 3 * U * 0.6 * lr + U, rtol: U }, 'weights');
  });

  it(`layer norm forward and backward: ${N64} rows of 2 features (the group-norm kernels, one row a workgroup lane)`, async () => {
    const [rows, features] = [N64, 2];
    const rng = new Rng(9);
    // Rows (μ − σ, μ + σ) with |μ| ≤ 0.3σ, σ ∈ [0.5, 2]: R = |μ|/σ ≤ 0.3 for the tolerances.
    const x = new Float32Array(rows * features);
    for (let r = 0; r < rows; r++) {
      const sigma = 0.5 + 1.5 * rng.nextFloat();
      const mu = (rng.nextFloat() * 0.6 - 0.3) * sigma;
      [x[2 * r], x[2 * r + 1]] = rng.nextBelow(2) ? [mu - sigma, mu + sigma] : [mu + sigma, mu - sigma];
    }
    const gamma = Float32Array.of(1.5, -0.5);
    const beta = Float32Array.of(0.25, 1);
    const dy = randomArray(rows * features, rng);
    const g = new Graph();
    const [xt, gt, bt] = [g.tensor([rows, features], 'activation', 'x'), g.tensor([features], 'param', 'g'), g.tensor([features], 'param', 'b')];
    const [y, mean, rstd] = g.add('layer_norm', [xt, gt, bt], { eps: 1e-5 });
    const dyt = g.tensor([rows, features], 'activation', 'dy');
    const [dx, dgamma, dbeta] = g.add('layer_norm_grad', [dyt, xt, mean, rstd, gt], {});
    const forward = await runNode(g.nodes[0], new Map([[xt, x], [gt, gamma], [bt, beta]]));
    const ref = layerNormRef(x, gamma, beta, rows, features, 1e-5);
    expectAllCloseWith(forward.written.get(y)!, (i) => ref.y[i], normOutputTolerance(features, 0.3, 1.5, longestRun(g.nodes[0])), 'y');
    expectAllCloseWith(forward.written.get(rstd)!, (r) => ref.rstd[r], rstdTolerance(features, 0.3, longestRun(g.nodes[0])), 'rstd');
    const backward = await runNode(g.nodes[1], new Map([[dyt, dy], [xt, x], [mean, forward.written.get(mean)!], [rstd, forward.written.get(rstd)!], [gt, gamma]]));
    const grads = layerNormBackwardRef(dy, x, gamma, rows, features, 1e-5);
    const run = longestRun(g.nodes[1]);
    expectAllCloseWith(Float64Array.from(backward.written.get(dx)!, (v, i) => v / ref.rstd[i >> 1]), (i) => grads.dx[i] / ref.rstd[i >> 1], normInputGradTolerance(features, 0.3, 1.5, run), 'dx / rstd');
    expectAllCloseWith(backward.written.get(dgamma)!, (f) => grads.dgamma[f], normParamGradTolerance(rows, 0.3, 1, run), 'dγ over 4M rows');
    expectAllCloseWith(backward.written.get(dbeta)!, (f) => grads.dbeta[f], normParamGradTolerance(rows, 0.3, 1, run), 'dβ over 4M rows');
  });

  // Found by this test (fixed): column_sum indexed its column by gid.x alone, so past 65,535 workgroups the
  // columns beyond 32,768·64 were never written.
  it(`column_sum: 2 rows × ${N64} columns`, async () => {
    const [rows, cols] = [2, N64];
    const x = randomArray(rows * cols, new Rng(10));
    const [sums] = await runKernel('columnSum', {}, [{ data: x }, { output: cols }], { rows, cols, chunk_rows: rows }, grid1d(cols, 64));
    expectAllCloseWith(sums, (c) => x[c] + x[cols + c], sumTolerance(rows, uniformRms(1)), 'column sums');
  });
});
