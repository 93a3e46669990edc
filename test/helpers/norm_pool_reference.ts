/**
 * Float64 plain-loop references of the NCHW norm and pooling ops, forward and backward, written from the
 * definitions (PyTorch's BatchNorm, GroupNorm/InstanceNorm, MaxPool2d, AvgPool2d), not from the kernels'
 * formulations: the pooling backward passes scatter into dx (the kernels gather), and the norm backward
 * passes go through the chain rule of the statistics. Layer norm's reference is layerNormRef in
 * reference.ts (independent of the group-norm view the kernels use for it).
 */
import type { Vec } from './reference';

export interface NdNormRef {
  y: Float64Array;
  mean: Float64Array;
  /** Biased variance (what normalises). */
  variance: Float64Array;
  rstd: Float64Array;
}

/** x [outer, C, inner] element (n, c, s). */
const at = (C: number, inner: number) => (n: number, c: number, s: number) => (n * C + c) * inner + s;

/** Training-mode batch norm on x [outer, C, inner]: statistics per channel over outer·inner elements. */
export function batchNormNdRef(x: Vec, gamma: Vec, beta: Vec, outer: number, C: number, inner: number, eps = 1e-5): NdNormRef {
  const idx = at(C, inner);
  const count = outer * inner;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < outer; n++) for (let s = 0; s < inner; s++) mean[c] += x[idx(n, c, s)];
    mean[c] /= count;
    for (let n = 0; n < outer; n++) for (let s = 0; s < inner; s++) variance[c] += (x[idx(n, c, s)] - mean[c]) ** 2;
    variance[c] /= count;
  }
  const rstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(outer * C * inner);
  for (let n = 0; n < outer; n++) {
    for (let c = 0; c < C; c++) for (let s = 0; s < inner; s++) y[idx(n, c, s)] = (x[idx(n, c, s)] - mean[c]) * rstd[c] * gamma[c] + beta[c];
  }
  return { y, mean, variance, rstd };
}

/** Evaluation-mode batch norm: the running statistics normalise. */
export function batchNormNdEvalRef(x: Vec, gamma: Vec, beta: Vec, runningMean: Vec, runningVar: Vec, outer: number, C: number, inner: number, eps = 1e-5): Float64Array {
  const idx = at(C, inner);
  const y = new Float64Array(outer * C * inner);
  for (let n = 0; n < outer; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < inner; s++) y[idx(n, c, s)] = ((x[idx(n, c, s)] - runningMean[c]) / Math.sqrt(runningVar[c] + eps)) * gamma[c] + beta[c];
    }
  }
  return y;
}

/** PyTorch's running-statistics update: the running variance takes the unbiased batch variance. */
export function runningStatsRef(runningMean: Vec, runningVar: Vec, ref: NdNormRef, count: number, momentum: number) {
  return {
    mean: Float64Array.from(runningMean, (v, c) => (1 - momentum) * v + momentum * ref.mean[c]),
    variance: Float64Array.from(runningVar, (v, c) => (1 - momentum) * v + (momentum * ref.variance[c] * count) / (count - 1)),
  };
}

/**
 * Gradients of L = Σ dy·y through training-mode batch norm, by the chain rule: y = x̂·γ + β with
 * x̂ = (x − μ)·(σ² + eps)^(−½), μ and σ² functions of the whole channel.
 */
export function batchNormNdBackwardRef(dy: Vec, x: Vec, gamma: Vec, outer: number, C: number, inner: number, eps = 1e-5) {
  const idx = at(C, inner);
  const count = outer * inner;
  const { mean, variance } = batchNormNdRef(x, gamma, new Float64Array(C), outer, C, inner, eps);
  const dx = new Float64Array(outer * C * inner);
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const sd = Math.sqrt(variance[c] + eps);
    let dVar = 0;
    let dMean = 0;
    for (let n = 0; n < outer; n++) {
      for (let s = 0; s < inner; s++) {
        const i = idx(n, c, s);
        dbeta[c] += dy[i];
        dgamma[c] += (dy[i] * (x[i] - mean[c])) / sd;
        const dxhat = dy[i] * gamma[c];
        dVar += dxhat * (x[i] - mean[c]) * -0.5 * sd ** -3;
        dMean += -dxhat / sd;
      }
    }
    // dσ²/dμ = −2Σ(x − μ)/M = 0, so μ's gradient has no variance term.
    for (let n = 0; n < outer; n++) {
      for (let s = 0; s < inner; s++) {
        const i = idx(n, c, s);
        dx[i] = (dy[i] * gamma[c]) / sd + (dVar * 2 * (x[i] - mean[c])) / count + dMean / count;
      }
    }
  }
  return { dx, dgamma, dbeta };
}

/** GroupNorm(G, C) on x [N, C, S]: statistics per (n, g) over (C/G)·S elements; γ, β per channel (optional). */
export function groupNormRef(x: Vec, gamma: Vec | undefined, beta: Vec | undefined, N: number, C: number, S: number, G: number, eps = 1e-5): NdNormRef {
  const idx = at(C, S);
  const per = C / G;
  const mean = new Float64Array(N * G);
  const variance = new Float64Array(N * G);
  const y = new Float64Array(N * C * S);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const r = n * G + g;
      for (let c = g * per; c < (g + 1) * per; c++) for (let s = 0; s < S; s++) mean[r] += x[idx(n, c, s)];
      mean[r] /= per * S;
      for (let c = g * per; c < (g + 1) * per; c++) for (let s = 0; s < S; s++) variance[r] += (x[idx(n, c, s)] - mean[r]) ** 2;
      variance[r] /= per * S;
    }
  }
  const rstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const r = n * G + Math.floor(c / per);
      for (let s = 0; s < S; s++) {
        const xhat = (x[idx(n, c, s)] - mean[r]) * rstd[r];
        y[idx(n, c, s)] = gamma && beta ? xhat * gamma[c] + beta[c] : xhat;
      }
    }
  }
  return { y, mean, variance, rstd };
}

/** Gradients of Σ dy·y through group norm, by the chain rule through each (n, g)'s mean and variance. */
export function groupNormBackwardRef(dy: Vec, x: Vec, gamma: Vec | undefined, N: number, C: number, S: number, G: number, eps = 1e-5) {
  const idx = at(C, S);
  const per = C / G;
  const count = per * S;
  const { mean, variance } = groupNormRef(x, undefined, undefined, N, C, S, G, eps);
  const dx = new Float64Array(N * C * S);
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const r = n * G + g;
      const sd = Math.sqrt(variance[r] + eps);
      let dVar = 0;
      let dMean = 0;
      for (let c = g * per; c < (g + 1) * per; c++) {
        for (let s = 0; s < S; s++) {
          const i = idx(n, c, s);
          const dxhat = dy[i] * (gamma ? gamma[c] : 1);
          dVar += dxhat * (x[i] - mean[r]) * -0.5 * sd ** -3;
          dMean += -dxhat / sd;
          dgamma[c] += (dy[i] * (x[i] - mean[r])) / sd;
          dbeta[c] += dy[i];
        }
      }
      for (let c = g * per; c < (g + 1) * per; c++) {
        for (let s = 0; s < S; s++) {
          const i = idx(n, c, s);
          dx[i] = (dy[i] * (gamma ? gamma[c] : 1)) / sd + (dVar * 2 * (x[i] - mean[r])) / count + dMean / count;
        }
      }
    }
  }
  return { dx, dgamma, dbeta };
}

export interface PoolWindow {
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/** Floor-mode output size along one axis. */
export const pooledSize = (size: number, kernel: number, stride: number, pad: number) => Math.floor((size + 2 * pad - kernel) / stride) + 1;

function windows(H: number, W: number, w: PoolWindow) {
  const outH = pooledSize(H, w.kernelH, w.strideH, w.padH);
  const outW = pooledSize(W, w.kernelW, w.strideW, w.padW);
  /** Input positions (ih, iw) inside window (oh, ow), padding excluded, row-major. */
  const cells = (oh: number, ow: number) => {
    const list: [number, number][] = [];
    for (let kh = 0; kh < w.kernelH; kh++) {
      for (let kw = 0; kw < w.kernelW; kw++) {
        const ih = oh * w.strideH - w.padH + kh;
        const iw = ow * w.strideW - w.padW + kw;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W) list.push([ih, iw]);
      }
    }
    return list;
  };
  return { outH, outW, cells };
}

/** MaxPool2d over `planes` planes of H×W (padding −∞): y and the first argmax's index ih·W + iw. */
export function maxPoolRef(x: Vec, planes: number, H: number, W: number, w: PoolWindow) {
  const { outH, outW, cells } = windows(H, W, w);
  const y = new Float64Array(planes * outH * outW);
  const indices = new Uint32Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        let best = -Infinity;
        let bestIndex = -1;
        for (const [ih, iw] of cells(oh, ow)) {
          const v = x[p * H * W + ih * W + iw];
          if (v > best) [best, bestIndex] = [v, ih * W + iw];
        }
        y[(p * outH + oh) * outW + ow] = best;
        indices[(p * outH + oh) * outW + ow] = bestIndex;
      }
    }
  }
  return { y, indices, outH, outW };
}

/** MaxPool2d's backward: each dy goes to its window's argmax (scattered, summed where windows overlap). */
export function maxPoolBackwardRef(dy: Vec, indices: ArrayLike<number>, planes: number, H: number, W: number, outH: number, outW: number): Float64Array {
  const dx = new Float64Array(planes * H * W);
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < outH * outW; o++) dx[p * H * W + indices[p * outH * outW + o]] += dy[p * outH * outW + o];
  }
  return dx;
}

/** AvgPool2d with count_include_pad (the divisor is always kernelH·kernelW in floor mode). */
export function avgPoolRef(x: Vec, planes: number, H: number, W: number, w: PoolWindow) {
  const { outH, outW, cells } = windows(H, W, w);
  const y = new Float64Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        let sum = 0;
        for (const [ih, iw] of cells(oh, ow)) sum += x[p * H * W + ih * W + iw];
        y[(p * outH + oh) * outW + ow] = sum / (w.kernelH * w.kernelW);
      }
    }
  }
  return { y, outH, outW };
}

/** AvgPool2d's backward: each dy spread evenly over its window's kernelH·kernelW cells (padding dropped). */
export function avgPoolBackwardRef(dy: Vec, planes: number, H: number, W: number, w: PoolWindow): Float64Array {
  const { outH, outW, cells } = windows(H, W, w);
  const dx = new Float64Array(planes * H * W);
  for (let p = 0; p < planes; p++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (const [ih, iw] of cells(oh, ow)) dx[p * H * W + ih * W + iw] += dy[(p * outH + oh) * outW + ow] / (w.kernelH * w.kernelW);
      }
    }
  }
  return dx;
}
