import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { mixupLambda } from '../../src/data/mixup';
import { Graph, type Tensor } from '../../src/graph/graph';
import { stepLayout } from '../../src/kernels/catalog';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose, expectValueClose } from '../helpers/compare';
import { randomArray, runKernel, stepArg, type HostArray } from '../helpers/gpu';
import { runNode, SPLITS } from '../helpers/run_node';
import { U, mixupLossTolerance, mixupTargetsTolerance, mixupTolerance, plus } from '../tolerances';
import { softmaxXentRef } from '../helpers/reference';


describe('mixup', () => {
  for (const [rows, features] of [[1, 3], [4, 5], [7, 784], [128, 10], [257, 2]] as const) {
    it(`blends each row with its mirrored partner (rows=${rows}, features=${features})`, async () => {
      const rng = new Rng(rows * features);
      const x = randomArray(rows * features, rng);
      const lambda = 0.7;
      const [mixed] = await runKernel('mixupInputs', {}, [{ data: x }, { output: rows * features }, stepArg({ mix_lambda: lambda })], { rows, features }, grid1d(rows * features, 256));
      const ref = Float64Array.from(x, (v, i) => lambda * v + (1 - lambda) * x[(rows - 1 - Math.floor(i / features)) * features + (i % features)]);
      expectAllClose(mixed, ref, mixupTolerance(1), 'λ·x + (1 − λ)·x_partner');
    });
  }

  // Up to 301 rows one workgroup under either split; 1500 rows the GPU split's 6 workgroups and loss_reduce.
  for (const [splitName, split] of SPLITS) {
    for (const [rows, classes] of [[1, 10], [2, 3], [9, 10], [128, 10], [301, 7], [1500, 4]] as const) {
      it(`${splitName} split: targets: the gradient and loss of cross-entropy against λ·onehot(y) + (1−λ)·onehot(y_partner) (rows=${rows})`, async () => {
        const rng = new Rng(rows + classes);
        const logits = randomArray(rows * classes, rng, 3);
        const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
        const plain = softmaxXentRef(logits, labels, rows, classes);
        const lambda = 0.6;
        const g = new Graph();
        const [zt, yt, dt, mt] = [g.tensor([rows, classes], 'external', 'logits'), g.tensor([rows], 'external', 'labels', 'u32'), g.tensor([rows, classes], 'external', 'dlogits'), g.tensor([8], 'external', 'metrics')];
        const st = g.tensor([stepLayout.byteSize / 4], 'external', 'step', 'u32');
        const [mixed] = g.add('mixup_targets', [zt, yt, dt, mt, st]);
        const before = new Float32Array([plain.lossSum, 0, rows, 0, 5, 6, 7, 8]);
        const values = new Map<Tensor, HostArray>([[zt, logits], [yt, labels], [dt, Float32Array.from(plain.dlogits)], [mt, before], [st, stepArg({ mix_lambda: lambda }).data]]);
        const { written } = await runNode(g.nodes[0], values, split);
        const [d, metrics] = [written.get(mixed)!, written.get(mt)!];
        // Only the loss sum moves: the rows were counted by softmax_xent.
        expect([...metrics.slice(1)]).toEqual([...before.slice(1)]);
        // Reference straight from the definition: soft-target cross-entropy.
        const grad = new Float64Array(rows * classes);
        let loss = 0;
        for (let r = 0; r < rows; r++) {
          const z = Array.from(logits.slice(r * classes, (r + 1) * classes));
          const max = Math.max(...z);
          const lse = Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
          const target = new Float64Array(classes);
          target[labels[r]] += lambda;
          target[labels[rows - 1 - r]] += 1 - lambda;
          for (let j = 0; j < classes; j++) {
            loss += target[j] * (lse - z[j]);
            grad[r * classes + j] = (Math.exp(z[j] - lse) - target[j]) / rows;
          }
        }
        // The kernel's inputs are the float64 one-hot results rounded to f32 (u relative): only the mixup
        // correction's own error is on top.
        expectAllClose(d, grad, plus({ atol: 0, rtol: U }, mixupTargetsTolerance(1 / rows)), 'soft-target dlogits');
        expectValueClose(metrics[0], loss, mixupLossTolerance(rows, 3), 'soft-target loss sum');
      });
    }
  }

  it('λ is drawn from Beta(α, α), folded to ≥ 1/2, and reproducible by seed and step', () => {
    const draws = Array.from({ length: 4000 }, (_, step) => mixupLambda(0.4, 3, step));
    expect(draws.every((l) => l >= 0.5 && l <= 1)).toBe(true);
    // E[max(λ, 1−λ)] for Beta(0.4, 0.4) is 0.840 (std 0.153; numpy, 2·10⁶ draws); 4000 draws: ±0.0024 s.e.
    const mean = draws.reduce((a, b) => a + b) / draws.length;
    expect(Math.abs(mean - 0.84)).toBeLessThan(0.012);
    expect(mixupLambda(0.4, 3, 17)).toBe(draws[17]);
    expect(mixupLambda(0, 3, 17)).toBe(1);
  });
});
