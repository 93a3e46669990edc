// The initialisation experiment: a 10-layer, 256-wide stack, activation statistics reduced on the GPU.
// The qualitative facts of the lessons, asserted on the numbers, and the GPU statistics against a float64
// forward pass of the same stack.
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { initWeight } from '../../src/nn/init';
import { formatInitDiagnostic, initDiagnostic, type InitDiagnosticResult, type InitDiagnosticRow } from '../../src/nn/init_diagnostic';
import { testGpu } from '../helpers/gpu';
import { activateRef, matmulRef, momentsRef } from '../helpers/reference';
import { expectValueClose } from '../helpers/compare';
import { chainTolerance, momentsTolerance, plus } from '../tolerances';

const rows = 64; // enough for stable statistics (64 × 256 values a layer), and quick on a CPU Vulkan
let result: InitDiagnosticResult;
let inputs: Float32Array;

beforeAll(async () => {
  const { resources } = await testGpu();
  const rng = new Rng(4);
  inputs = Float32Array.from({ length: rows * 256 }, () => rng.normal());
  result = await initDiagnostic(resources, {
    inputs: { data: inputs, rows, features: 256 },
    seed: 4,
    inits: [
      { label: 'zeros', init: 'zeros' },
      { label: 'normal(0.01)', init: 'normal', scale: 0.01 },
      { label: 'normal(1)', init: 'normal', scale: 1 },
      { label: 'he_normal', init: 'he_normal' },
      { label: 'xavier_normal', init: 'xavier_normal' },
    ],
  });
});

const row = (activation: string, label: string): InitDiagnosticRow => result.rows.find((r) => r.activation === activation && r.label === label)!;
const stds = (r: InitDiagnosticRow) => r.layers.map((l) => l.std);

describe('initialisation experiment (10 layers × 256, relu and tanh)', () => {
  it('zeros: every activation is exactly 0, in every layer', () => {
    for (const a of ['relu', 'tanh']) {
      expect(stds(row(a, 'zeros'))).toEqual(new Array(10).fill(0));
      expect(row(a, 'zeros').verdict).toBe('vanishes');
    }
  });

  it('tiny N(0, 0.01²) weights: the signal shrinks ~10× a layer and vanishes', () => {
    for (const a of ['relu', 'tanh']) {
      const s = stds(row(a, 'normal(0.01)'));
      s.slice(1).forEach((v, i) => expect(v).toBeLessThan(0.3 * s[i]));
      expect(s[9]).toBeLessThan(1e-6);
      expect(row(a, 'normal(0.01)').verdict).toBe('vanishes');
    }
  });

  it('N(0, 1) weights: ReLU activations explode, tanh saturates', () => {
    const relu = stds(row('relu', 'normal(1)'));
    relu.slice(1).forEach((v, i) => expect(v).toBeGreaterThan(5 * relu[i]));
    expect(relu[9]).toBeGreaterThan(1e9);
    expect(row('relu', 'normal(1)').verdict).toBe('explodes');
    const tanh = row('tanh', 'normal(1)');
    expect(tanh.layers[9].saturated).toBeGreaterThan(0.8); // most units pinned at ±1
    expect(tanh.layers[9].std).toBeGreaterThan(0.9);
    expect(tanh.verdict).toBe('saturates');
  });

  it('He with ReLU and Xavier with tanh keep the scale over all 10 layers', () => {
    const he = stds(row('relu', 'he_normal'));
    for (const v of he) expect(v).toBeGreaterThan(0.4), expect(v).toBeLessThan(2);
    expect(he[9] / he[0]).toBeGreaterThan(0.5);
    expect(he[9] / he[0]).toBeLessThan(2);
    expect(row('relu', 'he_normal').verdict).toBe('stable');
    const xavier = row('tanh', 'xavier_normal');
    for (const l of xavier.layers) expect(l.std).toBeGreaterThan(0.15), expect(l.saturated).toBeLessThan(0.05);
    expect(xavier.verdict).toBe('stable');
    // Xavier under ReLU halves the variance each layer: the contrast the lessons draw.
    expect(row('relu', 'xavier_normal').verdict).toBe('shrinks');
  });

  it('the GPU statistics match a float64 forward pass of the same stack', () => {
    for (const activation of ['relu', 'tanh']) {
      const rng = new Rng(4 + 1); // initDiagnostic draws weights from Rng(seed + 1)
      let h = Float64Array.from(inputs);
      const r = row(activation, 'he_normal');
      for (let layer = 0; layer < 10; layer++) {
        const w = initWeight('he_normal', 256, 256, rng);
        h = matmulRef(h, w, rows, 256, 256, false, true).map((v) => activateRef(v, activation));
        const ref = momentsRef(h);
        // The activations after layer l carry the float32 error of l + 1 chained 256-term matmuls
        // (chainTolerance, relative to their scale, ~ std), and the statistics momentsTolerance's own.
        const chain = chainTolerance(new Array(layer + 1).fill(256), 1);
        const tol = momentsTolerance(rows * 256, ref.mean, ref.std);
        expectValueClose(r.layers[layer].mean, ref.mean, plus(tol.mean, { atol: chain.atol * ref.std, rtol: 0 }), `${activation} layer ${layer + 1} mean`);
        expectValueClose(r.layers[layer].std, ref.std, plus(tol.std, { atol: 0, rtol: 2 * chain.atol }), `${activation} layer ${layer + 1} std`);
        // A count of |x| > 0.99: values within float32 error of the threshold may land either side; tanh's
        // activations near ±0.99 are dense enough for a few of 16,384 to do so (1e-3 = 16 of them).
        expectValueClose(r.layers[layer].saturated, ref.saturated, { atol: 1e-3, rtol: 0 }, `${activation} layer ${layer + 1} saturated fraction`);
      }
    }
  });

  it('prints a table per activation and statistic, with the verdicts', () => {
    const text = formatInitDiagnostic(result);
    expect(text).toMatch(/relu: standard deviation of each layer's activations \(10 layers of 256/);
    expect(text).toMatch(/tanh: mean of each layer's activations/);
    expect(text).toMatch(/^normal\(1\) .* explodes$/m);
    expect(text).toMatch(/^he_normal .* stable$/m);
    expect(text.split('\n').filter((l) => l.startsWith('init')).length).toBe(4);
  });
});
