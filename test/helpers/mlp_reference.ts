/**
 * A float64 CPU MLP: forward, backward and SGD, written out loop by loop. The GPU training step is
 * checked against it, and it in turn against finite differences.
 */
import { activateGradRef, activateRef, matmulRef, softmaxXentRef } from './reference';

export interface RefLayer {
  weight: Float64Array; // [out, in]
  bias: Float64Array; // [out]
  in: number;
  out: number;
}

export function cloneLayers(layers: RefLayer[]): RefLayer[] {
  return layers.map((l) => ({ ...l, weight: Float64Array.from(l.weight), bias: Float64Array.from(l.bias) }));
}

/**
 * Soft-target cross-entropy: mean over rows of Σⱼ tⱼ·(logsumexp(z) − zⱼ), its gradient (softmax − t)/rows,
 * and the argmax-correct count against `labels`. With one-hot targets it is softmaxXentRef.
 */
export function softTargetXentRef(logits: ArrayLike<number>, targets: ArrayLike<number>, labels: ArrayLike<number>, rows: number, classes: number) {
  const dlogits = new Float64Array(rows * classes);
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const z = Array.from({ length: classes }, (_, j) => logits[r * classes + j]);
    const max = Math.max(...z);
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    if (z.indexOf(max) === labels[r]) correct++;
    for (let j = 0; j < classes; j++) {
      const t = targets[r * classes + j];
      lossSum += t * (lse - z[j]);
      dlogits[r * classes + j] = (Math.exp(z[j] - lse) - t) / rows;
    }
  }
  return { lossSum, correct, dlogits };
}

/** Mean loss over the batch and, per layer, dW and db; `targets` (rows × classes) replaces one-hot labels. */
export function mlpLossAndGrads(layers: RefLayer[], x: Float64Array, labels: ArrayLike<number>, rows: number, activation: string, alpha = 0.01, targets?: ArrayLike<number>) {
  const classes = layers.at(-1)!.out;
  let correct = 0;
  const softmaxHead = (h: Float64Array) => {
    const result = targets ? softTargetXentRef(h, targets, labels, rows, classes) : softmaxXentRef(h, labels, rows, classes);
    correct = result.correct;
    return { loss: result.lossSum / rows, grad: result.dlogits };
  };
  const { loss, grads, dx } = mlpLossAndGradsWith(layers, x, rows, activation, softmaxHead, alpha);
  return { loss, correct, grads, dx };
}

export function sgdStep(layers: RefLayer[], grads: { weight: Float64Array<ArrayBufferLike>; bias: Float64Array }[], lr: number): void {
  layers.forEach((layer, i) => {
    layer.weight.forEach((w, j) => (layer.weight[j] = w - lr * grads[i].weight[j]));
    layer.bias.forEach((b, j) => (layer.bias[j] = b - lr * grads[i].bias[j]));
  });
}

/**
 * The MLP with any loss head: `head(outputs)` returns the mean loss and its gradient with respect to the
 * outputs [rows, out] (e.g. lossRef of test/helpers/loss_reference.ts). Returns the loss, dW and db per
 * layer, the outputs, and dx (the gradient with respect to the inputs).
 */
export function mlpLossAndGradsWith(
  layers: RefLayer[],
  x: Float64Array,
  rows: number,
  activation: string,
  head: (outputs: Float64Array) => { loss: number; grad: Float64Array },
  alpha = 0.01,
) {
  const pre: Float64Array[] = [];
  const acts: Float64Array[] = [x];
  let h = x;
  layers.forEach((layer, i) => {
    const z = matmulRef(h, layer.weight, rows, layer.out, layer.in, false, true);
    for (let r = 0; r < rows; r++) for (let j = 0; j < layer.out; j++) z[r * layer.out + j] += layer.bias[j];
    pre.push(z);
    h = i < layers.length - 1 ? z.map((v) => activateRef(v, activation, alpha)) : z;
    acts.push(h);
  });
  const { loss, grad } = head(h);
  const grads = layers.map(() => ({ weight: new Float64Array(0) as Float64Array<ArrayBufferLike>, bias: new Float64Array(0) }));
  let d: Float64Array<ArrayBufferLike> = grad;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (i < layers.length - 1) d = d.map((v, j) => v * activateGradRef(pre[i][j], activation, alpha));
    grads[i].weight = matmulRef(d, acts[i], layer.out, layer.in, rows, true, false);
    grads[i].bias = new Float64Array(layer.out);
    for (let r = 0; r < rows; r++) for (let j = 0; j < layer.out; j++) grads[i].bias[j] += d[r * layer.out + j];
    d = matmulRef(d, layer.weight, rows, layer.in, layer.out);
  }
  return { loss, grads, outputs: h, dx: d };
}
