import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import type { ReductionSplit } from '../../src/kernels/reduction_split';
import { expectAllClose, expectValueClose } from '../helpers/compare';
import { randomArray } from '../helpers/gpu';
import { runSoftmaxXent } from '../helpers/reduction_runs';
import { SPLITS } from '../helpers/run_node';
import { lossSumTolerance, softmaxGradTolerance } from '../tolerances';
import { softmaxXentRef } from '../helpers/reference';

// (rows, classes): one row; odd shapes; more rows than a workgroup has threads (64), so threads loop over
// rows, with one thread taking an extra row (257); 1000 rows (the evaluation batch); a single class (loss 0,
// gradient 0); batches far past one workgroup (4099, 20000), where the GPU split runs 17 and 79 workgroups
// of 256 rows, the last one short, and the single workgroup of the CPU split was the bottleneck.
const shapes: [number, number][] = [
  [1, 10],
  [3, 7],
  [128, 10],
  [257, 10],
  [1000, 10],
  [300, 1],
  [4099, 10],
  [20000, 3],
];

/** The accumulator's prior contents: the kernel must add to them, not overwrite them. */
const initial = Float32Array.of(1, 2, 3, 0, 5, 6, 7, 8);

function labelsFor(rows: number, classes: number, rng: Rng): Uint32Array {
  return Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
}

/** The softmax_xent node as the planner lowers it under `split`: one dispatch, or partials and loss_reduce. */
const run = (logits: Float32Array, labels: Uint32Array, rows: number, classes: number, split: ReductionSplit, writeGrad = true, metrics = initial) =>
  runSoftmaxXent(logits, labels, rows, classes, split, writeGrad, metrics);

describe('fused softmax cross-entropy vs float64 reference', () => {
  it('the GPU split runs a batch past 256 rows as workgroups of 256 and a loss_reduce pass; the CPU split one dispatch', async () => {
    const rng = new Rng(3);
    const [rows, classes] = [600, 4];
    const [gpu, cpu] = await Promise.all(SPLITS.map(([, split]) => run(randomArray(rows * classes, rng), labelsFor(rows, classes, rng), rows, classes, split)));
    expect([gpu.dispatches, cpu.dispatches]).toEqual([2, 1]);
  });

  for (const [splitName, split] of SPLITS) {
    for (const [rows, classes] of shapes) {
      it(`${splitName} split: rows=${rows} classes=${classes}: dlogits and metrics accumulated onto [1, 2, 3, 0, 5, 6, 7, 8]`, async () => {
        const rng = new Rng(rows * 131 + classes);
        const logits = randomArray(rows * classes, rng, 5);
        const labels = labelsFor(rows, classes, rng);
        const { dlogits, metrics } = await run(logits, labels, rows, classes, split);
        const ref = softmaxXentRef(logits, labels, rows, classes);
        if (classes === 1) {
          // softmax of one class is 1: the loss and the gradient are exactly 0.
          expect([...dlogits].every((v) => v === 0)).toBe(true);
          expect(metrics[0]).toBe(initial[0]);
        } else {
          expectAllClose(dlogits, ref.dlogits, softmaxGradTolerance(classes, 1 / rows), 'dlogits');
          expectValueClose(metrics[0], initial[0] + ref.lossSum, lossSumTolerance(rows, classes, 5), 'loss sum');
        }
        expect(metrics[1]).toBe(initial[1] + ref.correct);
        expect(metrics[2]).toBe(initial[2] + rows);
        expect(metrics[3]).toBe(0);
        expect([...metrics.slice(4)]).toEqual([...initial.slice(4)]);
      });
    }
  }

  for (const [splitName, split] of SPLITS) {
    describe(`${splitName} split`, () => {
      it('WRITE_GRAD=false (evaluation) leaves dlogits untouched but still accumulates the metrics', async () => {
        const [rows, classes] = [257, 10];
        const rng = new Rng(9);
        const logits = randomArray(rows * classes, rng, 3);
        const labels = labelsFor(rows, classes, rng);
        const { dlogits, metrics } = await run(logits, labels, rows, classes, split, false);
        // runKernel poisons outputs with NaN: the poison must survive.
        expect([...dlogits].every((v) => Number.isNaN(v))).toBe(true);
        const ref = softmaxXentRef(logits, labels, rows, classes);
        expectValueClose(metrics[0], initial[0] + ref.lossSum, lossSumTolerance(rows, classes, 3), 'loss sum');
        expect([...metrics.slice(1)]).toEqual([initial[1] + ref.correct, initial[2] + rows, 0, ...initial.slice(4)]);
      });

      it('logits of ±1e4 stay finite (the row maximum is subtracted before exp)', async () => {
        const [rows, classes] = [64, 10];
        const rng = new Rng(4);
        const logits = randomArray(rows * classes, rng, 1e4);
        // Rows whose every logit is huge and equal but one: exp(z) alone would be Inf in every row.
        logits.fill(1e4, 0, classes);
        logits.fill(-1e4, classes, 2 * classes);
        logits[classes + 3] = -9999;
        const labels = labelsFor(rows, classes, rng);
        const { dlogits, metrics } = await run(logits, labels, rows, classes, split);
        expect([...dlogits].every(Number.isFinite)).toBe(true);
        expect(metrics.every(Number.isFinite)).toBe(true);
        expect(metrics[3]).toBe(0);
        const ref = softmaxXentRef(logits, labels, rows, classes);
        expectAllClose(dlogits, ref.dlogits, softmaxGradTolerance(classes, 1 / rows), 'dlogits');
        expectValueClose(metrics[0], initial[0] + ref.lossSum, lossSumTolerance(rows, classes, 1e4), 'loss sum');
      });

      // NaN at a row's first logit (it becomes the running max) and in the middle of a row (it poisons the sum).
      for (const position of [0, 4]) {
        it(`a NaN logit at column ${position} sets non_finite = 1`, async () => {
          const [rows, classes] = [300, 10];
          const rng = new Rng(position + 1);
          const logits = randomArray(rows * classes, rng, 2);
          logits[270 * classes + position] = NaN; // row 270: not a thread's first row, and in the GPU split's second workgroup
          const labels = labelsFor(rows, classes, rng);
          const { metrics } = await run(logits, labels, rows, classes, split);
          expect(metrics[3]).toBe(1);
          expect(metrics[2]).toBe(initial[2] + rows);
        });
      }

      it('the non-finite flag is sticky across batches (max, not overwrite)', async () => {
        const [rows, classes] = [600, 3]; // the GPU split: through loss_reduce's max
        const rng = new Rng(12);
        const { metrics } = await run(randomArray(rows * classes, rng), labelsFor(rows, classes, rng), rows, classes, split, true, Float32Array.of(0, 0, 0, 1, 0, 0, 0, 0));
        expect(metrics[3]).toBe(1);
      });
    });
  }
});
