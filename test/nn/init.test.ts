// Initialisers: sample statistics against each formula, reproducibility by seed, orthogonality, and the
// symmetry warning. Tolerances: with n samples the sample std is within 5/√(2n) of σ (relative) for a
// normal law, and tighter for a uniform one; the mean within 5σ/√n of 0.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { ConfigError } from '../../src/errors';
import { initWeight, resolveInit, type InitName } from '../../src/nn/init';
import type { MlpConfig } from '../../src/nn/mlp';
import { toModel } from '../../src/nn/model_input';
import { ParameterArena } from '../../src/nn/parameters';
import { momentsRef } from '../helpers/reference';
import { expectAllClose } from '../helpers/compare';
import { U } from '../tolerances';

const [fanOut, fanIn] = [300, 200];
const n = fanOut * fanIn;

function stats(w: Float32Array) {
  const { mean, std } = momentsRef(w);
  return { mean, std, max: w.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
}

const expectedStd: [InitName, number, number?][] = [
  ['xavier_normal', Math.sqrt(2 / (fanIn + fanOut))],
  ['xavier_uniform', Math.sqrt(2 / (fanIn + fanOut))],
  ['he_normal', Math.sqrt(2 / fanIn)],
  ['he_uniform', Math.sqrt(2 / fanIn)],
  ['lecun_normal', Math.sqrt(1 / fanIn)],
  ['lecun_uniform', Math.sqrt(1 / fanIn)],
  ['normal', 0.01],
  ['normal', 1, 1],
  ['normal', 0.05, 0.05],
];

describe('initialisers', () => {
  for (const [name, sigma, scale] of expectedStd) {
    it(`${name}${scale === undefined ? '' : `(scale ${scale})`}: std ${sigma.toPrecision(3)}, mean 0`, () => {
      const w = initWeight(name, fanOut, fanIn, new Rng(1), { scale });
      const s = stats(w);
      expect(Math.abs(s.std / sigma - 1)).toBeLessThan(5 / Math.sqrt(2 * n));
      expect(Math.abs(s.mean)).toBeLessThan((5 * sigma) / Math.sqrt(n));
      // Uniform variants draw from U(−a, a) with a = √3·σ: nothing beyond, and the edges reached.
      if (name.endsWith('uniform')) {
        expect(s.max).toBeLessThanOrEqual(Math.sqrt(3) * sigma * (1 + 1e-6));
        expect(s.max).toBeGreaterThan(Math.sqrt(3) * sigma * 0.999);
      }
    });
  }

  it('the same seed gives the same weights; another seed other weights', () => {
    for (const name of ['he_normal', 'xavier_uniform', 'orthogonal', 'normal'] as const) {
      const a = initWeight(name, 40, 30, new Rng(7));
      expect([...initWeight(name, 40, 30, new Rng(7))]).toEqual([...a]);
      expect([...initWeight(name, 40, 30, new Rng(8))]).not.toEqual([...a]);
    }
    const model = toModel({ layers: [20, 16, 10], init: 'he_uniform', norm: 'batch' }, [20]);
    const arena = new ParameterArena(model.parameters);
    expect([...model.initialParameters(arena, 3, () => {})]).toEqual([...model.initialParameters(arena, 3, () => {})]);
  });

  for (const [rows, cols] of [[8, 20], [20, 8], [16, 16], [1, 5]] as const) {
    it(`orthogonal [${rows}, ${cols}]: the shorter side's vectors are orthonormal`, () => {
      const w = initWeight('orthogonal', rows, cols, new Rng(rows * cols));
      // Rows orthonormal when rows ≤ cols (W·Wᵀ = I), else columns (Wᵀ·W = I).
      const [count, length] = rows <= cols ? [rows, cols] : [cols, rows];
      const at = (v: number, k: number) => (rows <= cols ? w[v * cols + k] : w[k * cols + v]);
      const gram: number[] = [];
      const identity: number[] = [];
      for (let a = 0; a < count; a++) {
        for (let b = 0; b < count; b++) {
          let dot = 0;
          for (let k = 0; k < length; k++) dot += at(a, k) * at(b, k);
          gram.push(dot);
          identity.push(a === b ? 1 : 0);
        }
      }
      // Orthonormal in float64, then each entry rounded to f32 (u relative): a dot product of unit
      // vectors moves by ≤ 2u·‖a‖·‖b‖ = 2u, plus the float64 construction's error (negligible).
      expectAllClose(gram, identity, { atol: 2 * U, rtol: 0 }, 'W·Wᵀ (or Wᵀ·W)');
    });
  }

  it('orthogonal with a gain scales every vector to that length', () => {
    const w = initWeight('orthogonal', 4, 9, new Rng(1), { scale: 2 });
    const lengths = Array.from({ length: 4 }, (_, r) => Math.hypot(...w.slice(r * 9, r * 9 + 9)));
    expectAllClose(lengths, [2, 2, 2, 2], { atol: 0, rtol: 2 * U }, 'row lengths'); // f32 entries: u each, relative
  });

  it('zeros and constant fill', () => {
    expect(initWeight('zeros', 3, 4, new Rng(1)).every((v) => v === 0)).toBe(true);
    expect(initWeight('constant', 3, 4, new Rng(1), { scale: 0.5 }).every((v) => v === 0.5)).toBe(true);
  });

  it('aliases resolve; unknown names are a ConfigError listing the choices', () => {
    expect(resolveInit('he')).toBe('he_normal');
    expect(resolveInit('glorot')).toBe('xavier_normal');
    expect(() => resolveInit('kaiming_fancy')).toThrow(ConfigError);
    expect(() => resolveInit('kaiming_fancy')).toThrow(/he_normal/);
  });

  it('warns that zeros and constant never break the symmetry, and only for those', () => {
    for (const init of ['zeros', 'constant']) {
      const warnings: string[] = [];
      const config: MlpConfig = { layers: [6, 5, 3], init };
      const model = toModel(config, [6]);
      model.initialParameters(new ParameterArena(model.parameters), 1, (m) => warnings.push(m));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/symmetry/);
      expect(warnings[0]).toMatch(new RegExp(init));
    }
    for (const init of ['he_normal', 'normal', 'orthogonal']) {
      const warnings: string[] = [];
      const config: MlpConfig = { layers: [6, 5, 3], init };
      const model = toModel(config, [6]);
      model.initialParameters(new ParameterArena(model.parameters), 1, (m) => warnings.push(m));
      expect(warnings).toEqual([]);
    }
  });
});
