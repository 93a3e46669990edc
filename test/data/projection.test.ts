/**
 * PCA and whitening (src/data/projection.ts, src/data/covariance.ts): the GPU moments against float64
 * sums over several batches and a partial one; the fitted PCA against a float64 reference; ZCA- and
 * PCA-whitened training data (projected on the GPU by the input stage) with a covariance within 1e-3 of
 * the identity; a trainer on PCA inputs whose predictions match a float64 forward pass of the projected
 * inputs; the projection's round trip through a saved file's metadata; and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { datasetMoments, type Moments } from '../../src/data/covariance';
import type { Dataset } from '../../src/data/dataset';
import { GpuDataset } from '../../src/data/gpu_dataset';
import { checkProjectionSpec, decodeProjection, encodeProjection, fitProjection, type ProjectionSpec } from '../../src/data/projection';
import { Rng } from '../../src/data/rng';
import { ConfigError } from '../../src/errors';
import { ParameterArena } from '../../src/nn/parameters';
import { TrainingState } from '../../src/train/training_state';
import { Trainer } from '../../src/train/trainer';
import { Model } from '../../src/nn/model';
import { resolveOptimizer } from '../../src/optim/optimizer';
import { symmetricEigen } from '../../src/util/symmetric_eigen';
import { expectAllClose } from '../helpers/compare';
import { testGpu } from '../helpers/gpu';

const F = 12;

/** Correlated float features: x = z·A + offset, z standard-ish uniform, A a random full-rank mixing. */
function correlated(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const mix = Float64Array.from({ length: F * F }, (_, i) => (i % (F + 1) === 0 ? 1 : 0) + 0.6 * (rng.nextFloat() - 0.5));
  const x = new Float32Array(count * F);
  for (let s = 0; s < count; s++) {
    const z = Array.from({ length: F }, () => rng.nextFloat() * 2 - 1);
    for (let j = 0; j < F; j++) {
      let v = 0.3 * j;
      for (let i = 0; i < F; i++) v += z[i] * mix[i * F + j];
      x[s * F + j] = v;
    }
  }
  return { x, sampleShape: [F], count, labels: Uint8Array.from({ length: count }, (_, s) => (x[s * F] > 0.3 * 0 ? 1 : 0)), numClasses: 2 };
}

function cpuMoments(data: Dataset): Moments & { absOuter: number } {
  const m = { count: data.count, features: F, sum: new Float64Array(F), outer: new Float64Array(F * F), absOuter: 0 };
  const abs = new Float64Array(F * F);
  for (let s = 0; s < data.count; s++) {
    for (let i = 0; i < F; i++) {
      const xi = data.x[s * F + i];
      m.sum[i] += xi;
      for (let j = 0; j < F; j++) {
        m.outer[i * F + j] += xi * data.x[s * F + j];
        abs[i * F + j] += Math.abs(xi * data.x[s * F + j]);
      }
    }
  }
  m.absOuter = Math.max(...abs);
  return m;
}

function covarianceOf(m: Moments): Float64Array {
  const c = new Float64Array(m.features * m.features);
  for (let i = 0; i < m.features; i++) for (let j = 0; j < m.features; j++) c[i * m.features + j] = m.outer[i * m.features + j] / m.count - (m.sum[i] / m.count) * (m.sum[j] / m.count);
  return c;
}

/** The dataset on the GPU with `spec` fitted and uploaded, as the trainer does it. */
async function projected(data: Dataset, spec: ProjectionSpec) {
  const { resources } = await testGpu();
  const model = Model.create([{ type: 'Linear', in_features: 1, out_features: 1 }], [1]);
  const state = new TrainingState(resources, model, resolveOptimizer({ lr: 0.1 }), (arena: ParameterArena, stateArena: ParameterArena) => ({ params: new Float32Array(arena.totalFloats), state: new Float32Array(stateArena.totalFloats) }), 1);
  const components = checkProjectionSpec(spec, F);
  const buffers = state.projectionBuffers(F, components);
  const dataset = new GpuDataset(resources, 'fit', data, { mean: 0, std: 1 }, { projection: buffers });
  const projection = fitProjection(spec, await datasetMoments(resources, dataset, { autotune: false }));
  state.writeProjection(buffers, projection);
  const after = await datasetMoments(resources, dataset, { autotune: false, projected: true, bindings: state.bindings });
  dataset.destroy();
  state.destroy();
  return { projection, after };
}

describe('moments of a dataset on the GPU', () => {
  it('Σx and XᵀX over 4,133 samples (two full batches of 2,048 and one of 37) match float64 sums', async () => {
    const { resources } = await testGpu();
    const data = correlated(4133, 3);
    const dataset = new GpuDataset(resources, 'moments', data, { mean: 0, std: 1 });
    const gpu = await datasetMoments(resources, dataset, { autotune: false });
    dataset.destroy();
    const ref = cpuMoments(data);
    // Each batch is a float32 sum of ≤ 2,048 terms, the batches added in float64: the error of an
    // element is at most 2048·2⁻²⁴ times the sum of its terms' magnitudes over all samples.
    const atol = 2048 * 2 ** -24 * ref.absOuter;
    expectAllClose(gpu.outer, ref.outer, { atol, rtol: 0 }, 'XᵀX');
    expectAllClose(gpu.sum, ref.sum, { atol: 2048 * 2 ** -24 * 4133 * 4, rtol: 0 }, 'Σx');
    expect(gpu.count).toBe(4133);
  });
});

describe('PCA and whitening fitted on the training data', () => {
  const data = correlated(3001, 11);

  it('PCA: the components are the float64 covariance\'s leading eigenvectors, and the projected variances its eigenvalues', async () => {
    const { projection, after } = await projected(data, { kind: 'pca', components: 5 });
    const ref64 = cpuMoments(data);
    const { values, vectors } = symmetricEigen(covarianceOf(ref64), F);
    // The GPU's covariance differs from float64's by at most e per element (the moments' float32 sums, as
    // above, and the mean's square), so by ‖ΔC‖₂ ≤ F·e; an eigenvector moves by at most ‖ΔC‖₂ / its
    // eigenvalue's gap to the others (Davis–Kahan), and the float32 matrix adds its rounding.
    const e = 2 * 2048 * 2 ** -24 * (ref64.absOuter / data.count);
    const gap = (j: number) => Math.min(...[values[j - 1], values[j + 1]].filter((v) => v !== undefined).map((v) => Math.abs(v - values[j])));
    for (let j = 0; j < 5; j++) {
      const column = Float64Array.from({ length: F }, (_, i) => projection.matrix[i * 5 + j]);
      const ref = Float64Array.from({ length: F }, (_, i) => vectors[i * F + j]);
      const sign = Math.sign(column.reduce((s, v, i) => s + v * ref[i], 0));
      expectAllClose(column, ref.map((v) => sign * v), { atol: (2 * F * e) / gap(j) + 2 ** -23, rtol: 0 }, `component ${j} (gap ${gap(j).toFixed(3)})`);
    }
    const cov = covarianceOf(after);
    for (let j = 0; j < 5; j++) expect(Math.abs(cov[j * 5 + j] - values[j]) / values[j], `variance of component ${j}`).toBeLessThan(1e-3);
    // Eigenvalues move by at most ‖ΔC‖₂ ≤ F·e (Weyl): the kept fraction by about that over the total.
    const total = values.reduce((a, b) => a + b, 0);
    expect(Math.abs(projection.explainedVariance - values.subarray(0, 5).reduce((a, b) => a + b, 0) / total)).toBeLessThan((2 * F * F * e) / total);
    const mean = after.sum.map((s) => s / after.count);
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-4);
  });

  for (const spec of [{ kind: 'zca' }, { kind: 'pca-whiten', components: 7 }] as ProjectionSpec[]) {
    it(`${spec.kind}: the whitened training data's covariance is within 1e-3 of the identity`, async () => {
      const { after, projection } = await projected(data, spec);
      const k = projection.components;
      const cov = covarianceOf(after);
      let worst = 0;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) worst = Math.max(worst, Math.abs(cov[i * k + j] - (i === j ? 1 : 0)));
      expect(worst).toBeLessThan(1e-3);
      expect(worst, 'the data was not white before').toBeLessThan(1);
      const before = covarianceOf(cpuMoments(data));
      expect(Math.max(...before.map((v, i) => Math.abs(v - (i % (F + 1) === 0 ? 1 : 0)))), 'the input covariance is far from I').toBeGreaterThan(0.05);
    });
  }

  it('ZCA is symmetric (W = Wᵀ) and keeps the sample shape; the projection survives its metadata text exactly', async () => {
    const { projection } = await projected(data, { kind: 'zca', eps: 1e-4 });
    for (let i = 0; i < F; i++) for (let j = 0; j < i; j++) expect(Math.abs(projection.matrix[i * F + j] - projection.matrix[j * F + i])).toBeLessThan(1e-5);
    const back = decodeProjection(encodeProjection(projection), 'model.safetensors');
    expect(back).toEqual(projection);
  });
});

describe('a trainer on PCA inputs', () => {
  it('fits the projection on the training split, trains a model of [components] inputs, and predicts through the same projection', async () => {
    const { gpu } = await testGpu();
    const data = correlated(600, 5);
    const trainer = await Trainer.create(gpu, data, data, {
      model: [{ type: 'Linear', in_features: 4, out_features: 2 }],
      projection: { kind: 'pca', components: 4 },
      batchSize: 100,
      optimizer: { name: 'sgd', lr: 0.1 },
      autotune: false,
    });
    await trainer.fit({ epochs: 2, evaluate: false });
    const p = trainer.projection!;
    expect(p.components).toBe(4);
    const weights = await trainer.weights();
    const [W, b] = [weights.get('0.weight')!, weights.get('0.bias')!];
    const probabilities = await trainer.predict(data.x as Float32Array);
    trainer.destroy();
    // float64: y = x·P + c, logits = y·Wᵀ + b, softmax.
    const ref = new Float64Array(data.count * 2);
    for (let s = 0; s < data.count; s++) {
      const y = Array.from({ length: 4 }, (_, j) => p.bias[j] + Array.from({ length: F }, (_, i) => data.x[s * F + i] * p.matrix[i * 4 + j]).reduce((a, v) => a + v, 0));
      const logits = [0, 1].map((o) => b[o] + y.reduce((a, v, j) => a + v * W[o * 4 + j], 0));
      const top = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - top));
      e.forEach((v, o) => (ref[s * 2 + o] = v / (e[0] + e[1])));
    }
    expectAllClose(probabilities, ref, { atol: 1e-5, rtol: 1e-5 }, 'probabilities');
  });

  it('refuses a model that does not take [components] inputs, and bad projection settings, before any GPU work', async () => {
    const { gpu } = await testGpu();
    const data = correlated(50, 1);
    await expect(Trainer.create(gpu, data, undefined, { model: [{ type: 'Linear', in_features: 12, out_features: 2 }], projection: { kind: 'pca', components: 4 } })).rejects.toThrow(/in_features/);
    for (const [spec, message] of [
      [{ kind: 'pca', components: 13 }, /pca needs a whole number of components from 1 to the 12 input features; got 13/],
      [{ kind: 'pca-whiten' }, /pca-whiten needs a whole number of components/],
      [{ kind: 'zca', components: 5 }, /ZCA keeps every one of the 12 features/],
      [{ kind: 'zca', eps: -1 }, /ε must be a finite number ≥ 0/],
      [{ kind: 'svd' }, /Unknown projection 'svd'/],
    ] as [ProjectionSpec, RegExp][]) {
      expect(() => checkProjectionSpec(spec, 12)).toThrow(ConfigError);
      expect(() => checkProjectionSpec(spec, 12)).toThrow(message);
    }
    expect(() => decodeProjection('{"kind":"pca"}', 'w.safetensors')).toThrow(/w\.safetensors: its projection .* unreadable: features/);
  });
});
