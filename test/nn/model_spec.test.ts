// The model description grammar: compact strings and JSON, round trips, and clear errors.
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors';
import { formatModel, parseModel } from '../../src/nn/model_spec';

describe('parseModel', () => {
  it('reads widths, activation, initialiser, norm and dropout in any order', () => {
    expect(parseModel('784-256-128-10 relu he batch dropout=0.2')).toEqual({
      layers: [784, 256, 128, 10],
      activation: 'relu',
      alpha: 0.01,
      init: 'he_normal',
      norm: 'batch',
      dropout: 0.2,
      normMomentum: 0.1,
    });
    expect(parseModel('  784-10  dropout=0.5   layer tanh xavier_uniform ')).toMatchObject({ layers: [784, 10], activation: 'tanh', init: 'xavier_uniform', norm: 'layer', dropout: 0.5 });
    expect(parseModel('5-4-3 leaky_relu alpha=0.2 norm=bn init=orthogonal norm_momentum=0.01')).toMatchObject({ activation: 'leaky_relu', alpha: 0.2, norm: 'batch', init: 'orthogonal', normMomentum: 0.01 });
  });

  it('fills defaults: relu, he_normal, no norm, no dropout', () => {
    expect(parseModel('784-128-10')).toEqual({ layers: [784, 128, 10], activation: 'relu', alpha: 0.01, init: 'he_normal', norm: 'none', dropout: 0, normMomentum: 0.1 });
  });

  it('accepts the MlpConfig as JSON', () => {
    const json = JSON.stringify({ layers: [784, 64, 10], activation: 'selu', init: 'lecun_normal', norm: 'layer', dropout: 0.1 });
    expect(parseModel(json)).toMatchObject({ layers: [784, 64, 10], activation: 'selu', init: 'lecun_normal', norm: 'layer', dropout: 0.1 });
  });

  it('round-trips through formatModel', () => {
    for (const text of ['784-256-128-10 relu he_normal batch dropout=0.2', '10-3 tanh xavier_normal', '6-5-4 elu lecun_uniform alpha=0.5 layer dropout=0.3', '6-5-4 relu orthogonal batch norm_momentum=0.2']) {
      expect(formatModel(parseModel(text))).toBe(text);
      expect(parseModel(formatModel(parseModel(text)))).toEqual(parseModel(text));
    }
  });

  it('refuses unknown words, repeated settings and bad values with a ConfigError that says what is accepted', () => {
    const refuses = (text: string, message: RegExp) => {
      expect(() => parseModel(text)).toThrow(ConfigError);
      expect(() => parseModel(text)).toThrow(message);
    };
    refuses('784-10 relu fancy', /Unknown word 'fancy'.*relu.*he_normal.*batch.*dropout=P/);
    refuses('784-10 colour=red', /Unknown model setting 'colour'.*dropout=/);
    refuses('784-10 relu tanh', /activation is already set/);
    refuses('784-10 batch layer', /norm is already set/);
    refuses('784-10 dropout=1', /\[0, 1\)/);
    refuses('784-10 dropout=abc', /expected a number/);
    refuses('784-10 norm=group', /Unknown norm 'group'/);
    refuses('relu 784-10', /widths/);
    refuses('784', /widths/);
    refuses('784-0-10', /widths/);
    refuses('784-10 784-10', /widths are given twice/);
    refuses('', /empty/);
    refuses('{"layers": [784, 10], "hidden": 3}', /Unknown model key 'hidden'/);
    refuses('{"layers": [784, 10], ', /not valid JSON/);
    refuses('{"layers": [784, 10], "norm": "group"}', /Unknown norm/);
    expect(() => parseModel('{"layers": [784]}')).toThrow(ShapeError);
  });
});
