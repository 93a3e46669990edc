// Fuzzed model descriptions (src/nn/model_spec.ts parseModel): compact strings and JSON. Each is parsed into
// a model whose every field is a real, checked value, or refused with a ConfigError or ShapeError.
import { describe, expect, it } from 'vitest';
import { parseModel } from '../../src/nn/model_spec';
import { activationKinds } from '../../src/graph/ops';
import { initNames } from '../../src/nn/init';
import { normNames, type ResolvedMlp } from '../../src/nn/mlp';
import { expectClean, jsonCases, runFuzz, textCases } from '../helpers/fuzz';

const compact = [
  '784-256-128-10 relu he batch dropout=0.2',
  '784-10',
  '5-4-3 leaky_relu alpha=0.2 norm=bn init=orthogonal norm_momentum=0.01',
  '6-5-4 elu lecun_uniform alpha=0.5 layer dropout=0.3',
  '10-3 tanh xavier_normal activation=tanh',
];
const json = [
  { layers: [784, 64, 10], activation: 'selu', init: 'lecun_normal', norm: 'layer', dropout: 0.1 },
  { layers: [5, 4, 3], activation: 'leaky_relu', alpha: 0.3, norm: 'batch', normMomentum: 0.2 },
  { layers: [2, 2] },
];
const words = ['relu', 'tanh', 'he', 'xavier', 'batch', 'layer', 'none', 'dropout=', 'alpha=', 'norm=', 'init=', 'activation=', 'norm_momentum=', '784-10', '3', '"layers"', '"dropout"'];

/** Everything a parsed model promises the layers downstream. */
function checkModel(m: ResolvedMlp): string | undefined {
  if (!Array.isArray(m.layers) || m.layers.length < 2 || !m.layers.every((w) => Number.isSafeInteger(w) && w > 0)) return `layers ${JSON.stringify(m.layers)}`;
  if (typeof m.activation !== 'string' || !Object.hasOwn(activationKinds, m.activation)) return `activation ${String(m.activation)}`;
  if (!(initNames as readonly unknown[]).includes(m.init)) return `init ${String(m.init)}`;
  if (!(normNames as readonly unknown[]).includes(m.norm)) return `norm ${String(m.norm)}`;
  if (typeof m.dropout !== 'number' || !(m.dropout >= 0 && m.dropout < 1)) return `dropout ${JSON.stringify(m.dropout)}`;
  if (typeof m.alpha !== 'number' || !Number.isFinite(m.alpha)) return `alpha ${JSON.stringify(m.alpha)}`;
  if (typeof m.normMomentum !== 'number' || !(m.normMomentum >= 0 && m.normMomentum <= 1)) return `normMomentum ${JSON.stringify(m.normMomentum)}`;
  return undefined;
}

const options = { parse: parseModel, check: checkModel, allocation: { fixedBytes: 1 << 20, perInputByte: 16 } };

describe('model descriptions under fuzzing', () => {
  it('3000 mutations of compact strings: each parsed into a checked model or refused with a typed error', () => {
    const report = expectClean(runFuzz({ ...options, cases: textCases(31, compact, { count: 3000, words }) }), 3000);
    expect(report.parsed).toBeGreaterThan(100);
    expect(Object.keys(report.refusedBy).every((k) => k === 'ConfigError' || k === 'ShapeError'), Object.keys(report.refusedBy).join()).toBe(true);
  });

  it('3000 structural mutations of JSON descriptions, and text mutations of their JSON', () => {
    const structural = expectClean(runFuzz({ ...options, cases: jsonCases(32, json, { count: 3000 }) }), 3000);
    expect(structural.parsed).toBeGreaterThan(50);
    const text = expectClean(runFuzz({ ...options, cases: textCases(33, json.map((j) => JSON.stringify(j)), { count: 2000, words }) }), 2000);
    for (const report of [structural, text]) expect(Object.keys(report.refusedBy).every((k) => k === 'ConfigError' || k === 'ShapeError')).toBe(true);
  });

  it('names every object inherits are not activations, norms, settings or keys', () => {
    for (const word of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => parseModel(`784-10 ${word}`), word).toThrow(/Unknown word/);
      expect(() => parseModel(`784-10 ${word}=1`), word).toThrow(/Unknown model setting/);
      expect(() => parseModel(`784-10 norm=${word}`), word).toThrow(/Unknown norm/);
      expect(() => parseModel(JSON.stringify({ layers: [784, 10], activation: word })), word).toThrow(/Unknown activation/);
    }
  });
});
