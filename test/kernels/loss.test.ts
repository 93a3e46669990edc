/**
 * shaders/loss.wgsl + loss_reduce.wgsl (the `loss` op's two dispatches, as src/kernels/lower.ts issues
 * them) against the float64 references of test/helpers/loss_reference.ts: the gradient of the mean loss
 * elementwise (outputs poisoned with NaN first), and every metric added onto an accumulator that already
 * holds values. Batches of 1, 7, 33 and 129 rows with odd class and target counts; two shapes with more
 * than 64 workgroups of partials, so the reduce pass's strided runs are used too.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { LOSS_ELEMENTS_PER_GROUP, LOSS_ROWS_PER_GROUP } from '../../src/kernels/lower_reduce';
import { resolveLoss, type LossName, type LossSpec } from '../../src/train/loss';
import { expectAllClose, expectValueClose, type Tolerance } from '../helpers/compare';
import { randomArray, runKernel } from '../helpers/gpu';
import { lossRef } from '../helpers/loss_reference';
import { bceGradTolerance, bceSumTolerance, lossCeGradTolerance, lossCeSumTolerance, REGRESSION_GRAD, regressionSumTolerance } from '../tolerances';

/** The accumulator's prior contents: the passes must add to them (the flag is a max). */
const initial = Float32Array.of(1, 2, 3, 0, 4, 5, 6, 7);

interface Run {
  grad: Float32Array;
  metrics: Float32Array;
}

async function runLoss(spec: LossSpec, outputs: Float32Array, truth: Uint32Array | Float32Array, rows: number, cols: number, writeGrad = true, metrics = initial): Promise<Run> {
  const loss = resolveLoss(spec);
  const ce = loss.kind === 'cross_entropy';
  const groups = ce ? Math.ceil(rows / LOSS_ROWS_PER_GROUP) : Math.ceil((rows * cols) / LOSS_ELEMENTS_PER_GROUP);
  const weights = loss.classWeights;
  const [grad, partials] = await runKernel(
    'loss',
    { KIND: loss.code, WRITE_GRAD: writeGrad, WEIGHTED: !!weights },
    [
      { data: outputs },
      { data: truth instanceof Float32Array ? new Uint32Array(truth.buffer.slice(0)) : truth },
      { data: weights ?? new Float32Array(1) },
      { output: rows * cols },
      { output: 8 * groups },
    ],
    {
      rows,
      cols,
      smoothing: loss.labelSmoothing,
      weight_sum: weights ? weights.reduce((a, b) => a + b, 0) : cols,
      grad_scale: ce ? 1 / rows : 1 / (rows * cols),
      delta: loss.delta,
      huber_scale: loss.huberScale,
    },
    [groups, 1, 1],
  );
  const [out] = await runKernel('lossReduce', {}, [{ data: partials as Float32Array }, { output: 8, initial: metrics }], { groups, rows }, [1, 1, 1]);
  return { grad: grad as Float32Array, metrics: out as Float32Array };
}

const ceSpecs: { name: string; spec: (classes: number, rng: Rng) => LossSpec }[] = [
  { name: 'plain', spec: () => ({ kind: 'cross_entropy' }) },
  { name: 'ε = 0.1', spec: () => ({ kind: 'cross_entropy', labelSmoothing: 0.1 }) },
  { name: 'class weights', spec: (c, rng) => ({ kind: 'cross_entropy', classWeights: Array.from({ length: c }, () => 0.25 + 2 * rng.nextFloat()) }) },
  { name: 'weights and ε = 0.2', spec: (c, rng) => ({ kind: 'cross_entropy', labelSmoothing: 0.2, classWeights: Array.from({ length: c }, () => 0.25 + 2 * rng.nextFloat()) }) },
];
const elementwise: { name: string; spec: LossSpec }[] = [
  { name: 'bce', spec: { kind: 'bce' } },
  { name: 'mse', spec: { kind: 'mse' } },
  { name: 'l1', spec: { kind: 'l1' } },
  { name: 'huber δ = 0.7', spec: { kind: 'huber', delta: 0.7 } },
  { name: 'smooth_l1 β = 0.5', spec: { kind: 'smooth_l1', beta: 0.5 } },
];
const shapes: [number, number][] = [
  [1, 5],
  [7, 3],
  [33, 13],
  [129, 7],
];

function checkMetrics(kind: LossName, metrics: Float32Array, ref: ReturnType<typeof lossRef>, rows: number, lossTol: Tolerance, weightTol: Tolerance) {
  expectValueClose(metrics[0], initial[0] + ref.lossSum, lossTol, 'loss sum');
  expect(metrics[1], 'correct').toBe(initial[1] + ref.correct);
  expect(metrics[2], 'rows').toBe(initial[2] + rows);
  expect(metrics[3], 'non-finite flag').toBe(0);
  expectValueClose(metrics[4], initial[4] + ref.lossWeight, weightTol, 'loss weight');
  const n = ref.predictions;
  if (kind === 'cross_entropy' || kind === 'bce') {
    expect([metrics[5], metrics[6]], 'no regression errors').toEqual([initial[5], initial[6]]);
  } else {
    expectValueClose(metrics[5], initial[5] + ref.squaredError, regressionSumTolerance(n), 'squared error');
    expectValueClose(metrics[6], initial[6] + ref.absoluteError, regressionSumTolerance(n), 'absolute error');
  }
  expect(metrics[7], 'predictions').toBe(initial[7] + n);
}

describe('loss.wgsl cross-entropy (weights, label smoothing) vs float64', () => {
  for (const { name, spec } of ceSpecs) {
    for (const [rows, classes] of [...shapes, [4500, 3] as [number, number]]) {
      it(`${name}: rows=${rows} classes=${classes}`, async () => {
        const rng = new Rng(rows * 31 + classes);
        const s = spec(classes, rng);
        const scale = 5;
        const logits = randomArray(rows * classes, rng, scale);
        const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
        const { grad, metrics } = await runLoss(s, logits, labels, rows, classes);
        const f32w = s.classWeights ? Float32Array.from(s.classWeights) : undefined;
        const ref = lossRef('cross_entropy', logits, labels, rows, classes, { labelSmoothing: Math.fround(s.labelSmoothing ?? 0), classWeights: f32w });
        const wMax = f32w ? Math.max(...f32w) : 1;
        expectAllClose(grad, ref.grad, lossCeGradTolerance(classes, rows, wMax, s.labelSmoothing ?? 0, 1 / ref.lossWeight), 'dlogits');
        const weightTol: Tolerance = { atol: 0, rtol: 2 * 2 ** -24 * Math.sqrt(rows) + 2 ** -23 };
        checkMetrics('cross_entropy', metrics, ref, rows, lossCeSumTolerance(rows, classes, scale, wMax), weightTol);
      });
    }
  }
});

describe('loss.wgsl elementwise losses vs float64', () => {
  for (const { name, spec } of elementwise) {
    for (const [rows, cols] of [...shapes, [300, 70] as [number, number]]) {
      it(`${name}: rows=${rows} targets=${cols}`, async () => {
        const rng = new Rng(rows * 17 + cols + spec.kind.length);
        const n = rows * cols;
        const scale = 3;
        const outputs = randomArray(n, rng, scale);
        // BCE: targets in [0, 1], a third of them exactly 0 or 1 (multi-label); regression: any floats.
        const targets =
          spec.kind === 'bce'
            ? Float32Array.from({ length: n }, () => (rng.nextFloat() < 0.66 ? rng.nextBelow(2) : rng.nextFloat()))
            : randomArray(n, rng, scale);
        const { grad, metrics } = await runLoss(spec, outputs, targets, rows, cols);
        const ref = lossRef(spec.kind, outputs, targets, rows, cols, { delta: spec.delta ?? spec.beta });
        const gradTol = spec.kind === 'bce' ? bceGradTolerance(1 / n) : REGRESSION_GRAD;
        expectAllClose(grad, ref.grad, gradTol, 'gradient');
        const lossTol = spec.kind === 'bce' ? bceSumTolerance(n, scale) : regressionSumTolerance(n);
        checkMetrics(spec.kind, metrics, ref, rows, lossTol, { atol: 0, rtol: 0 });
      });
    }
  }
});

describe('loss.wgsl evaluation, non-finite values, determinism', () => {
  it('WRITE_GRAD=false leaves the gradient poisoned but accumulates the metrics', async () => {
    const [rows, cols] = [33, 5];
    const rng = new Rng(3);
    const outputs = randomArray(rows * cols, rng, 2);
    const targets = randomArray(rows * cols, rng, 2);
    const { grad, metrics } = await runLoss({ kind: 'mse' }, outputs, targets, rows, cols, false);
    expect([...grad].every(Number.isNaN)).toBe(true);
    const ref = lossRef('mse', outputs, targets, rows, cols);
    expectValueClose(metrics[0], initial[0] + ref.lossSum, regressionSumTolerance(rows * cols), 'loss sum');
  });

  for (const kind of ['cross_entropy', 'bce', 'huber'] as const) {
    it(`${kind}: a NaN output sets the non-finite flag (sticky: a max over batches)`, async () => {
      const [rows, cols] = [129, 7];
      const rng = new Rng(5);
      const outputs = randomArray(rows * cols, rng, 2);
      outputs[100 * cols + 3] = NaN;
      const truth = kind === 'cross_entropy' ? Uint32Array.from({ length: rows }, () => rng.nextBelow(cols)) : Float32Array.from({ length: rows * cols }, () => rng.nextFloat());
      const { metrics } = await runLoss({ kind }, outputs, truth, rows, cols);
      expect(metrics[3]).toBe(1);
      const clean = randomArray(rows * cols, rng, 2);
      const again = await runLoss({ kind }, clean, truth, rows, cols, true, Float32Array.of(0, 0, 0, 1, 0, 0, 0, 0));
      expect(again.metrics[3]).toBe(1);
    });
  }

  it('two runs are bitwise equal (fixed-order reductions, no atomics)', async () => {
    const [rows, cols] = [4500, 3];
    const rng = new Rng(8);
    const logits = randomArray(rows * cols, rng, 4);
    const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(cols));
    const spec: LossSpec = { kind: 'cross_entropy', labelSmoothing: 0.1, classWeights: [0.5, 1, 2] };
    const a = await runLoss(spec, logits, labels, rows, cols);
    const b = await runLoss(spec, logits, labels, rows, cols);
    expect(Buffer.from(a.grad.buffer).equals(Buffer.from(b.grad.buffer))).toBe(true);
    expect([...a.metrics]).toEqual([...b.metrics]);
  });
});
