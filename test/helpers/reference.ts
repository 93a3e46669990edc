/**
 * Float64 plain-loop references for every kernel, forward and backward. Deliberately naive: clarity is
 * the point, since the GPU results are judged against these.
 */
import { derivativeFromInput } from '../../src/graph/ops';

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

/**
 * erf in float64 (JavaScript has none): the Maclaurin series for |x| < 2.5 (terms peak near 2.5^13/6!·…
 * ≈ 60, so the rounding error stays near 1e-14), and for |x| ≥ 2.5 the continued fraction of erfc,
 * evaluated by Lentz's method to 1e-16 (it converges quickly there).
 */
export function erfRef(x: number): number {
  const z = Math.abs(x);
  if (z < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - erfcLargeRef(z));
}

/** erfc(z) for z ≥ 2.5: exp(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + …))))). */
function erfcLargeRef(z: number): number {
  const tiny = 1e-300;
  let f = z;
  let c = z;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = z + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = z + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

/** Φ(x), the standard normal CDF. */
export function normalCdfRef(x: number): number {
  return x < -3.5 ? 0.5 * erfcLargeRef(-x / Math.SQRT2) : 0.5 * (1 + erfRef(x / Math.SQRT2));
}

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
    case 'gelu':
      return x * normalCdfRef(x);
    case 'silu':
      return x / (1 + Math.exp(-x));
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
    case 'gelu':
      return normalCdfRef(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
    case 'silu': {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    }
    default:
      return 1;
  }
}

/**
 * What an activation's backward kernel reads for pre-activations x: the float32 output y, or x itself
 * where the derivative is taken from the input (GELU, SiLU; src/graph/ops.ts derivativeFromInput).
 */
export function savedForGrad(x: Float32Array, kind: string, alpha = 0.01): Float32Array {
  return derivativeFromInput(kind) ? Float32Array.from(x) : Float32Array.from(x, (v) => activateRef(v, kind, alpha));
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

// ---- Layers and regularisation: dropout, batch norm, layer norm, tensor moments ----

/** The PCG hash of shaders/dropout.wgsl (and gather_augment.wgsl), in 32-bit integer arithmetic. */
export function pcgRef(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Dropout's per-element multiplier (0 or 1/(1 − rate)), derived independently from the kernel's spec. */
export function dropoutMaskRef(count: number, rate: number, seed: number, step: number, salt: number): Float64Array {
  const threshold = Math.min(0xffffffff, Math.round(rate * 2 ** 32));
  const key = pcgRef((salt ^ pcgRef((step ^ pcgRef(seed)) >>> 0)) >>> 0);
  const mask = new Float64Array(count);
  for (let i = 0; i < count; i++) mask[i] = pcgRef((key ^ pcgRef(i)) >>> 0) >= threshold ? 1 / (1 - rate) : 0;
  return mask;
}

export interface NormRef {
  y: Float64Array;
  mean: Float64Array;
  /** Biased variance (what normalises). */
  variance: Float64Array;
  rstd: Float64Array;
}

/** Batch norm in training mode on x [rows, features]: statistics per column. */
export function batchNormRef(x: Vec, gamma: Vec, beta: Vec, rows: number, features: number, eps = 1e-5): NormRef {
  const mean = new Float64Array(features);
  const variance = new Float64Array(features);
  for (let f = 0; f < features; f++) {
    for (let r = 0; r < rows; r++) mean[f] += x[r * features + f] / rows;
    for (let r = 0; r < rows; r++) variance[f] += (x[r * features + f] - mean[f]) ** 2 / rows;
  }
  const rstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(rows * features);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) y[r * features + f] = (x[r * features + f] - mean[f]) * rstd[f] * gamma[f] + beta[f];
  }
  return { y, mean, variance, rstd };
}

/** Batch norm in evaluation mode: the running statistics normalise. */
export function batchNormEvalRef(x: Vec, gamma: Vec, beta: Vec, runningMean: Vec, runningVar: Vec, rows: number, features: number, eps = 1e-5): Float64Array {
  const y = new Float64Array(rows * features);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) {
      y[r * features + f] = ((x[r * features + f] - runningMean[f]) / Math.sqrt(runningVar[f] + eps)) * gamma[f] + beta[f];
    }
  }
  return y;
}

/** Gradients of Σ dy·y for training-mode batch norm, by the chain rule through the batch statistics. */
export function batchNormBackwardRef(dy: Vec, x: Vec, gamma: Vec, rows: number, features: number, eps = 1e-5) {
  const { mean, rstd } = batchNormRef(x, gamma, new Float64Array(features), rows, features, eps);
  const dx = new Float64Array(rows * features);
  const dgamma = new Float64Array(features);
  const dbeta = new Float64Array(features);
  for (let f = 0; f < features; f++) {
    const xhat = (r: number) => (x[r * features + f] - mean[f]) * rstd[f];
    for (let r = 0; r < rows; r++) {
      dbeta[f] += dy[r * features + f];
      dgamma[f] += dy[r * features + f] * xhat(r);
    }
    // dL/dx̂ = γ·dy; through x̂ = (x − μ)/σ with μ and σ² functions of the whole column.
    let sumDxhat = 0;
    let sumDxhatXhat = 0;
    for (let r = 0; r < rows; r++) {
      const g = gamma[f] * dy[r * features + f];
      sumDxhat += g;
      sumDxhatXhat += g * xhat(r);
    }
    for (let r = 0; r < rows; r++) {
      const g = gamma[f] * dy[r * features + f];
      dx[r * features + f] = (rstd[f] / rows) * (rows * g - sumDxhat - xhat(r) * sumDxhatXhat);
    }
  }
  return { dx, dgamma, dbeta };
}

/** Layer norm on x [rows, features]: statistics per row. */
export function layerNormRef(x: Vec, gamma: Vec, beta: Vec, rows: number, features: number, eps = 1e-5): NormRef {
  const mean = new Float64Array(rows);
  const variance = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) mean[r] += x[r * features + f] / features;
    for (let f = 0; f < features; f++) variance[r] += (x[r * features + f] - mean[r]) ** 2 / features;
  }
  const rstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(rows * features);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) y[r * features + f] = (x[r * features + f] - mean[r]) * rstd[r] * gamma[f] + beta[f];
  }
  return { y, mean, variance, rstd };
}

/** Gradients of Σ dy·y for layer norm. */
export function layerNormBackwardRef(dy: Vec, x: Vec, gamma: Vec, rows: number, features: number, eps = 1e-5) {
  const { mean, rstd } = layerNormRef(x, gamma, new Float64Array(features), rows, features, eps);
  const dx = new Float64Array(rows * features);
  const dgamma = new Float64Array(features);
  const dbeta = new Float64Array(features);
  for (let r = 0; r < rows; r++) {
    const xhat = (f: number) => (x[r * features + f] - mean[r]) * rstd[r];
    let sumG = 0;
    let sumGX = 0;
    for (let f = 0; f < features; f++) {
      const g = gamma[f] * dy[r * features + f];
      sumG += g;
      sumGX += g * xhat(f);
      dbeta[f] += dy[r * features + f];
      dgamma[f] += dy[r * features + f] * xhat(f);
    }
    for (let f = 0; f < features; f++) {
      dx[r * features + f] = rstd[r] * (gamma[f] * dy[r * features + f] - sumG / features - (xhat(f) * sumGX) / features);
    }
  }
  return { dx, dgamma, dbeta };
}

/** Mean, population std and the fraction of |x| > 0.99 of a whole tensor. */
export function momentsRef(x: Vec): { mean: number; std: number; saturated: number } {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i] / x.length;
  let sq = 0;
  let saturated = 0;
  for (let i = 0; i < x.length; i++) {
    sq += (x[i] - mean) ** 2;
    if (Math.abs(x[i]) > 0.99) saturated++;
  }
  return { mean, std: Math.sqrt(sq / x.length), saturated: saturated / x.length };
}
