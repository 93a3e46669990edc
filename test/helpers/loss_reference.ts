/**
 * Float64 references of the losses of src/train/loss.ts, written from PyTorch's definitions:
 * nn.CrossEntropyLoss(weight, label_smoothing), BCEWithLogitsLoss, MSELoss, L1Loss, HuberLoss(delta) and
 * SmoothL1Loss(beta), reduction mean. Returns the metrics the loss op accumulates and the gradient of the
 * batch's mean loss (the op's output).
 */
import type { LossName } from '../../src/train/loss';

export interface LossRefOptions {
  labelSmoothing?: number;
  classWeights?: ArrayLike<number>;
  /** huber's δ, or smooth_l1's β. */
  delta?: number;
}

export interface LossRef {
  lossSum: number;
  /** The mean's denominator: Σ w_{y_r} (cross-entropy), rows·cols (the rest). */
  lossWeight: number;
  loss: number;
  grad: Float64Array;
  correct: number;
  predictions: number;
  squaredError: number;
  absoluteError: number;
}

/** `truth`: class labels [rows] for cross_entropy, targets [rows·cols] for the rest. */
export function lossRef(kind: LossName, outputs: ArrayLike<number>, truth: ArrayLike<number>, rows: number, cols: number, o: LossRefOptions = {}): LossRef {
  const grad = new Float64Array(rows * cols);
  let lossSum = 0;
  let lossWeight = 0;
  let correct = 0;
  let predictions = 0;
  let squaredError = 0;
  let absoluteError = 0;
  if (kind === 'cross_entropy') {
    const eps = o.labelSmoothing ?? 0;
    const w = (j: number) => (o.classWeights ? o.classWeights[j] : 1);
    let sw = 0;
    for (let j = 0; j < cols; j++) sw += w(j);
    for (let r = 0; r < rows; r++) lossWeight += w(truth[r]);
    for (let r = 0; r < rows; r++) {
      const z = Array.from({ length: cols }, (_, j) => outputs[r * cols + j]);
      const max = Math.max(...z);
      const lse = Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
      const y = truth[r];
      if (z.indexOf(max) === y) correct++;
      predictions++;
      let loss = (1 - eps) * w(y) * (lse - z[y]);
      for (let j = 0; j < cols; j++) loss += (eps / cols) * w(j) * (lse - z[j]);
      lossSum += loss;
      for (let j = 0; j < cols; j++) {
        const p = Math.exp(z[j] - lse);
        grad[r * cols + j] = (p * ((1 - eps) * w(y) + (eps / cols) * sw) - (j === y ? (1 - eps) * w(y) : 0) - (eps / cols) * w(j)) / lossWeight;
      }
    }
  } else {
    const n = rows * cols;
    const delta = o.delta ?? 1;
    const hs = kind === 'smooth_l1' ? 1 / delta : 1;
    for (let i = 0; i < n; i++) {
      const x = outputs[i];
      const t = truth[i];
      const d = x - t;
      const a = Math.abs(d);
      let l: number;
      let g: number;
      if (kind === 'bce') {
        l = Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
        g = 1 / (1 + Math.exp(-x)) - t;
        if (x > 0 === t >= 0.5) correct++;
      } else {
        if (kind === 'mse') [l, g] = [d * d, 2 * d];
        else if (kind === 'l1') [l, g] = [a, Math.sign(d)];
        else [l, g] = [(a < delta ? 0.5 * d * d : delta * (a - 0.5 * delta)) * hs, Math.min(delta, Math.max(-delta, d)) * hs];
        squaredError += d * d;
        absoluteError += a;
      }
      lossSum += l;
      grad[i] = g / n;
      predictions++;
    }
    lossWeight = n;
  }
  return { lossSum, lossWeight, loss: lossSum / lossWeight, grad, correct, predictions, squaredError, absoluteError };
}
