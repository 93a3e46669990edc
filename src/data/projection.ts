/**
 * PCA and whitening as preprocessing (lesson 004), fitted on the training split only. With μ the mean and
 * C = U·Λ·Uᵀ the covariance of the preprocessed training inputs (their moments summed on the GPU by
 * src/data/covariance.ts, the eigendecomposition in float64 by src/util/symmetric_eigen.ts):
 *
 *   pca (k)         y = (x − μ)·U_k                          k components, largest variance first
 *   pca-whiten (k)  y = (x − μ)·U_k·(Λ_k + ε)^(−1/2)         the same, each with unit variance
 *   zca             y = (x − μ)·U·(Λ + ε)^(−1/2)·Uᵀ          white, and the closest such map to the inputs:
 *                                                           images stay images (same shape)
 *
 * The input stage applies it on the GPU as one matmul y = x·W + b, with b = −μ·W from here (float64).
 * Each eigenvector's sign is fixed (its largest component positive), so a fit is reproducible. ε keeps
 * directions of (near) zero variance, such as MNIST's always-black border pixels, from being blown up.
 */
import { ConfigError } from '../errors';
import { floatsFromBase64, floatsToBase64 } from '../util/base64';
import { symmetricEigen } from '../util/symmetric_eigen';
import type { Moments } from './covariance';

export const projectionKinds = ['pca', 'pca-whiten', 'zca'] as const;
export type ProjectionKind = (typeof projectionKinds)[number];

/** What to fit: `components` for pca and pca-whiten; `eps` for the whitenings (default 1e-5). */
export interface ProjectionSpec {
  kind: ProjectionKind;
  components?: number;
  eps?: number;
}

/** A fitted projection: y = x·matrix + bias, matrix [features, components] row-major. */
export interface Projection {
  kind: ProjectionKind;
  features: number;
  components: number;
  eps: number;
  matrix: Float32Array;
  bias: Float32Array;
  /** The training inputs' mean, and the fraction of their variance the components keep. */
  mean: Float32Array;
  explainedVariance: number;
}

export const DEFAULT_EPS = 1e-5;

/** Checks a spec against the number of input features; returns the output size (components). */
export function checkProjectionSpec(spec: ProjectionSpec, features: number): number {
  if (!projectionKinds.includes(spec.kind)) throw new ConfigError(`Unknown projection '${String(spec.kind)}'. Expected one of ${projectionKinds.join(', ')}.`);
  const eps = spec.eps ?? DEFAULT_EPS;
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new ConfigError(`The whitening ε must be a finite number ≥ 0; got ${spec.eps}.`);
  if (spec.kind === 'zca') {
    if (spec.components !== undefined && spec.components !== features) throw new ConfigError(`ZCA keeps every one of the ${features} features; it takes no number of components (got ${spec.components}).`);
    return features;
  }
  const k = spec.components;
  if (k === undefined || !Number.isInteger(k) || k < 1 || k > features) {
    throw new ConfigError(`${spec.kind} needs a whole number of components from 1 to the ${features} input features; got ${k}.`);
  }
  return k;
}

/** A fitted projection (a saved model's) against the data's features; returns its components. */
export function checkFittedProjection(p: Projection, features: number): number {
  if (p.features !== features) throw new ConfigError(`The projection was fitted on samples of ${p.features} features; the data's have ${features}.`);
  if (p.matrix.length !== p.features * p.components || p.bias.length !== p.components) {
    throw new ConfigError(`The projection's matrix holds ${p.matrix.length} values and its bias ${p.bias.length}; ${p.features}×${p.components} and ${p.components} are needed.`);
  }
  return checkProjectionSpec(p, features);
}

/** The projection `spec` asks for, from the training inputs' moments. */
export function fitProjection(spec: ProjectionSpec, moments: Moments): Projection {
  const { features: F, count: n } = moments;
  const k = checkProjectionSpec(spec, F);
  const eps = spec.eps ?? DEFAULT_EPS;
  const mean = Float64Array.from(moments.sum, (s) => s / n);
  const cov = new Float64Array(F * F);
  for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) cov[i * F + j] = moments.outer[i * F + j] / n - mean[i] * mean[j];
  const { values, vectors } = symmetricEigen(cov, F);
  const lambda = Float64Array.from(values, (v) => Math.max(v, 0)); // rounding can leave −1e-17 for a zero variance
  for (let j = 0; j < F; j++) {
    let largest = 0;
    for (let i = 0; i < F; i++) if (Math.abs(vectors[i * F + j]) > Math.abs(vectors[largest * F + j])) largest = i;
    if (vectors[largest * F + j] < 0) for (let i = 0; i < F; i++) vectors[i * F + j] = -vectors[i * F + j];
  }
  const W = new Float64Array(F * k);
  if (spec.kind === 'zca') {
    for (let i = 0; i < F; i++) {
      for (let c = 0; c < F; c++) {
        let s = 0;
        for (let j = 0; j < F; j++) s += (vectors[i * F + j] * vectors[c * F + j]) / Math.sqrt(lambda[j] + eps);
        W[i * F + c] = s;
      }
    }
  } else {
    const whiten = spec.kind === 'pca-whiten';
    for (let i = 0; i < F; i++) for (let j = 0; j < k; j++) W[i * k + j] = vectors[i * F + j] / (whiten ? Math.sqrt(lambda[j] + eps) : 1);
  }
  const bias = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = 0; i < F; i++) s -= mean[i] * W[i * k + j];
    bias[j] = s;
  }
  const total = lambda.reduce((a, b) => a + b, 0);
  const kept = lambda.subarray(0, k).reduce((a, b) => a + b, 0);
  return { kind: spec.kind, features: F, components: k, eps, matrix: Float32Array.from(W), bias, mean: Float32Array.from(mean), explainedVariance: total > 0 ? kept / total : 1 };
}

/** The projection as text for a saved file's metadata (float32 arrays in base64), and back. */
export function encodeProjection(p: Projection): string {
  const b64 = floatsToBase64;
  return JSON.stringify({ kind: p.kind, features: p.features, components: p.components, eps: p.eps, explainedVariance: p.explainedVariance, matrix: b64(p.matrix), bias: b64(p.bias), mean: b64(p.mean) });
}

export function decodeProjection(text: string, file: string): Projection {
  const fail = (why: string): never => {
    throw new ConfigError(`${file}: its projection (webgrad.projection metadata) is unreadable: ${why}.`);
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  const floats = (key: string, length: number) => {
    const out = (typeof raw[key] === 'string' ? floatsFromBase64(raw[key] as string) : fail(`${key} is missing`)) ?? fail(`${key} is not base64 of float32 values`);
    if (out.length !== length) fail(`${key} holds ${out.length} values, not ${length}`);
    if (!out.every(Number.isFinite)) fail(`${key} holds a non-finite value`);
    return out;
  };
  const { kind, features, components, eps, explainedVariance } = raw as Record<string, number> & { kind: ProjectionKind };
  if (!Number.isInteger(features) || features < 1) fail('features is not a positive whole number');
  checkProjectionSpec({ kind, components, eps }, features);
  return { kind, features, components, eps, explainedVariance: Number(explainedVariance), matrix: floats('matrix', features * components), bias: floats('bias', components), mean: floats('mean', features) };
}
