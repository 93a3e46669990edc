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

/** Mean loss over the batch and, per layer, dW and db. */
export function mlpLossAndGrads(layers: RefLayer[], x: Float64Array, labels: ArrayLike<number>, rows: number, activation: string, alpha = 0.01) {
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
  const classes = layers.at(-1)!.out;
  const { lossSum, correct, dlogits } = softmaxXentRef(h, labels, rows, classes);
  const grads = layers.map(() => ({ weight: new Float64Array(0) as Float64Array<ArrayBufferLike>, bias: new Float64Array(0) }));
  let d: Float64Array<ArrayBufferLike> = dlogits;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (i < layers.length - 1) d = d.map((v, j) => v * activateGradRef(pre[i][j], activation, alpha));
    grads[i].weight = matmulRef(d, acts[i], layer.out, layer.in, rows, true, false);
    grads[i].bias = new Float64Array(layer.out);
    for (let r = 0; r < rows; r++) for (let j = 0; j < layer.out; j++) grads[i].bias[j] += d[r * layer.out + j];
    d = matmulRef(d, layer.weight, rows, layer.in, layer.out);
  }
  return { loss: lossSum / rows, correct, grads };
}

export function sgdStep(layers: RefLayer[], grads: { weight: Float64Array<ArrayBufferLike>; bias: Float64Array }[], lr: number): void {
  layers.forEach((layer, i) => {
    layer.weight.forEach((w, j) => (layer.weight[j] = w - lr * grads[i].weight[j]));
    layer.bias.forEach((b, j) => (layer.bias[j] = b - lr * grads[i].bias[j]));
  });
}
