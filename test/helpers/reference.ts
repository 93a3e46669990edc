/**
 * Float64 plain-loop references for every kernel, forward and backward. Deliberately naive: clarity is
 * the point, since the GPU results are judged against these.
 */
export type Vec = ArrayLike<number>;

/** C = op(A)·op(B); A stored [M,K] or [K,M] (transA), B stored [K,N] or [N,K] (transB). */
export function matmulRef(a: Vec, b: Vec, m: number, n: number, k: number, transA = false, transB = false): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = sum;
    }
  }
  return c;
}

export const SELU_LAMBDA = 1.0507009873554805;
export const SELU_ALPHA = 1.6732632423543772;

export function activateRef(x: number, kind: string, alpha = 0.01): number {
  switch (kind) {
    case 'relu':
      return Math.max(x, 0);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'leaky_relu':
      return x > 0 ? x : alpha * x;
    case 'elu':
      return x > 0 ? x : alpha * (Math.exp(x) - 1);
    case 'selu':
      return SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1));
    default:
      return x;
  }
}

/** d/dx activate(x), computed from x (independently of the kernels' from-output formulation). */
export function activateGradRef(x: number, kind: string, alpha = 0.01): number {
  switch (kind) {
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 - s);
    }
    case 'tanh':
      return 1 - Math.tanh(x) ** 2;
    case 'leaky_relu':
      return x > 0 ? 1 : alpha;
    case 'elu':
      return x > 0 ? 1 : alpha * Math.exp(x);
    case 'selu':
      return SELU_LAMBDA * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x));
    default:
      return 1;
  }
}

/** Mean softmax cross-entropy over rows, its gradient, and the argmax-correct count. */
export function softmaxXentRef(logits: Vec, labels: Vec, rows: number, classes: number): { lossSum: number; correct: number; dlogits: Float64Array } {
  const dlogits = new Float64Array(rows * classes);
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    let best = 0;
    for (let j = 0; j < classes; j++) {
      if (logits[r * classes + j] > max) {
        max = logits[r * classes + j];
        best = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.exp(logits[r * classes + j] - max);
    lossSum += Math.log(sum) + max - logits[r * classes + labels[r]];
    if (best === labels[r]) correct++;
    for (let j = 0; j < classes; j++) {
      dlogits[r * classes + j] = (Math.exp(logits[r * classes + j] - max) / sum - (j === labels[r] ? 1 : 0)) / rows;
    }
  }
  return { lossSum, correct, dlogits };
}

export function columnSumRef(x: Vec, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let m = 0; m < rows; m++) for (let n = 0; n < cols; n++) out[n] += x[m * cols + n];
  return out;
}

/** Central finite difference of a scalar function at x (float64). */
export function numericGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + h;
    const up = f(x);
    x[i] = saved - h;
    const down = f(x);
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}
