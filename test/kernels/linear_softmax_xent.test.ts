/**
 * The fused classifier head (shaders/linear_softmax_xent.wgsl) against float64: logits = h·Wᵀ + b, the
 * softmax cross-entropy's dlogits and metrics, and dh = (dlogits·W) ⊙ activate'(v). Shapes: one row; odd
 * sizes; the MLP's head (64 rows, 10 classes, 64 features); more rows than the workgroup's 64 invocations
 * (130, 257), so invocations loop over rows; the most classes the kernel holds (32); one feature. Outputs
 * are poisoned (NaN) and the metrics start at [1, 2, 3, 0], which the kernel must add to.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { Graph, type Tensor } from '../../src/graph/graph';
import { HEAD_MAX_CLASSES } from '../../src/kernels/lower';
import { shaderFiles } from '../../src/kernels/shaders';
import { expectAllClose, expectValueClose } from '../helpers/compare';
import type { ReductionSplit } from '../../src/kernels/reduction_split';
import { randomArray, type HostArray } from '../helpers/gpu';
import { runNode, SPLITS } from '../helpers/run_node';
import { activateGradRef, matmulRef, savedForGrad, softmaxXentRef } from '../helpers/reference';
import { headTolerances } from '../tolerances';

const initial = Float32Array.of(1, 2, 3, 0, 5, 6, 7, 8);

// [rows, classes, features, activation whose derivative dh takes (none: plain dlogits·W)]
const cases: [number, number, number, string][] = [
  [1, 10, 64, 'relu'],
  [5, 3, 7, 'none'],
  [64, 10, 64, 'relu'],
  [130, HEAD_MAX_CLASSES, 33, 'gelu'],
  [257, 2, 1, 'sigmoid'],
  [64, 10, 128, 'tanh'],
  // Batches the GPU split runs as 4 and 12 workgroups of 256 rows (the last one short) and a loss_reduce pass.
  [1000, 10, 64, 'relu'],
  [3001, 5, 9, 'gelu'],
];

/** The head node as the planner lowers it under `split`. */
async function runHead(h: Float32Array, w: Float32Array, bias: Float32Array, labels: Uint32Array, v: Float32Array | undefined, rows: number, classes: number, features: number, act: string, split: ReductionSplit, writeDh = true) {
  const g = new Graph();
  const ht = g.tensor([rows, features], 'external', 'h');
  const wt = g.tensor([classes, features], 'external', 'w');
  const bt = g.tensor([classes], 'external', 'b');
  const yt = g.tensor([rows], 'external', 'labels', 'u32');
  const mt = g.tensor([8], 'external', 'metrics');
  const vt = v ? [g.tensor([rows, features], 'external', 'v')] : [];
  const [dz, dht] = g.add('linear_softmax_xent', [ht, wt, bt, yt, mt, ...vt], { writeDh, alpha: 0.1, ...(act === 'none' ? {} : { actGrad: act }) });
  const values = new Map<Tensor, HostArray>([[ht, h], [wt, w], [bt, bias], [yt, labels], [mt, initial], ...vt.map((t) => [t, v!] as [Tensor, HostArray])]);
  const { written } = await runNode(g.nodes[0], values, split);
  return { dlogits: written.get(dz) as Float32Array, dh: (dht ? written.get(dht) : undefined) as Float32Array, metrics: written.get(mt) as Float32Array };
}

describe('fused classifier head vs float64 reference', () => {
  it('holds as many classes as the fusion rule allows', () => {
    expect(shaderFiles['linear_softmax_xent.wgsl']).toContain(`const MAX_CLASSES: u32 = ${HEAD_MAX_CLASSES}u;`);
  });

  for (const [splitName, split] of SPLITS) {
    for (const [rows, classes, features, act] of cases) {
      it(`${splitName} split: rows=${rows} classes=${classes} features=${features} dh through ${act}`, async () => {
        const rng = new Rng(rows * 977 + classes * 31 + features);
        const h = randomArray(rows * features, rng);
        const w = randomArray(classes * features, rng);
        const bias = randomArray(classes, rng);
        const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
        const x = randomArray(rows * features, rng, 3);
        const v = act === 'none' ? undefined : savedForGrad(x, act, 0.1);
        const { dlogits, dh, metrics } = await runHead(h, w, bias, labels, v, rows, classes, features, act, split);

        const z = matmulRef(h, w, rows, classes, features, false, true).map((s, i) => s + bias[i % classes]);
        const ref = softmaxXentRef(z, labels, rows, classes);
        const tol = headTolerances(rows, classes, features, Math.max(...z.map(Math.abs)));
        expectAllClose(dlogits, ref.dlogits, tol.dlogits, 'dlogits');
        const g = matmulRef(ref.dlogits, w, rows, features, classes);
        expectAllClose(dh, act === 'none' ? g : g.map((t, i) => t * activateGradRef(x[i], act, 0.1)), tol.dh, 'dh');
        expectValueClose(metrics[0], initial[0] + ref.lossSum, tol.lossSum, 'loss sum');
        expect(metrics[1]).toBe(initial[1] + ref.correct);
        expect(metrics[2]).toBe(initial[2] + rows);
        expect(metrics[3]).toBe(0);
        expect([...metrics.slice(4)]).toEqual([...initial.slice(4)]);
      });
    }
  }

  it('WRITE_DH=false (nothing below the head trains) writes dlogits and the metrics, and binds no dh', async () => {
    const [rows, classes, features] = [64, 10, 20];
    const rng = new Rng(3);
    const h = randomArray(rows * features, rng);
    const w = randomArray(classes * features, rng);
    const bias = randomArray(classes, rng);
    const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
    const { dlogits, dh, metrics } = await runHead(h, w, bias, labels, undefined, rows, classes, features, 'none', SPLITS[0][1], false);
    expect(dh).toBeUndefined();
    const z = matmulRef(h, w, rows, classes, features, false, true).map((s, i) => s + bias[i % classes]);
    const ref = softmaxXentRef(z, labels, rows, classes);
    const tol = headTolerances(rows, classes, features, Math.max(...z.map(Math.abs)));
    expectAllClose(dlogits, ref.dlogits, tol.dlogits, 'dlogits');
    expect(metrics[1]).toBe(initial[1] + ref.correct);
  });

  for (const [splitName, split] of SPLITS) {
    it(`${splitName} split: a non-finite logit raises the non-finite flag`, async () => {
      const [rows, classes, features] = [600, 4, 4];
      const rng = new Rng(4);
      const h = randomArray(rows * features, rng);
      h[300 * features + 1] = Infinity; // row 300: the GPU split's second workgroup
      const out = await runHead(h, randomArray(classes * features, rng), randomArray(classes, rng), new Uint32Array(rows), undefined, rows, classes, features, 'none', split);
      expect(out.metrics[3]).toBe(1);
      expect(out.metrics[2]).toBe(initial[2] + rows);
    });
  }
});
