import { describe, expect, it } from 'vitest';
import { LrScheduler, parseSchedule } from '../../src/optim/schedule';
import { ConfigError } from '../../src/errors';
import { expectAllClose, expectValueClose } from '../helpers/compare';
import { FLOAT64 } from '../tolerances';

describe('learning-rate schedules', () => {
  it('constant, step, exponential and cosine follow their formulas', () => {
    expect(new LrScheduler(0.1).lr(7, 1000)).toBe(0.1);
    const step = new LrScheduler(0.1, { kind: 'step', every: 3, gamma: 0.5 });
    expect([0, 2, 3, 5, 6].map((e) => step.lr(e, 0))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    const exp = new LrScheduler(0.1, { kind: 'exponential', gamma: 0.98 });
    expectValueClose(exp.lr(10, 0), 0.1 * 0.98 ** 10, FLOAT64, 'exponential at epoch 10');
    const cosine = new LrScheduler(0.1, { kind: 'cosine', epochs: 10, minLr: 0.001 });
    expectValueClose(cosine.lr(0, 0), 0.1, FLOAT64, 'cosine at 0');
    expectValueClose(cosine.lr(5, 0), 0.0505, FLOAT64, 'cosine at 5');
    expectValueClose(cosine.lr(10, 0), 0.001, FLOAT64, 'cosine at 10');
    expectValueClose(cosine.lr(20, 0), 0.001, FLOAT64, 'cosine past the end');
  });

  it('linear warm-up scales any schedule over the first steps', () => {
    const s = new LrScheduler(0.2, { kind: 'constant' }, 4);
    expectAllClose([0, 1, 2, 3, 4, 100].map((step) => s.lr(0, step)), [0.05, 0.1, 0.15, 0.2, 0.2, 0.2], FLOAT64, 'warm-up');
  });

  it('reduce-on-plateau cuts the rate after `patience` epochs without improvement, and its state round-trips', () => {
    const s = new LrScheduler(0.1, { kind: 'plateau', factor: 0.5, patience: 2 });
    for (const loss of [1.0, 0.9, 0.95, 0.91]) s.observe(loss);
    expect(s.lr(4, 0)).toBe(0.1);
    s.observe(0.92);
    expect(s.lr(5, 0)).toBe(0.05);
    const copy = new LrScheduler(0.1, { kind: 'plateau', factor: 0.5, patience: 2 });
    copy.setState(JSON.parse(JSON.stringify(s.state())));
    expect(copy.lr(5, 0)).toBe(0.05);
  });

  it('parses the CLI forms and rejects unknown ones', () => {
    expect(parseSchedule('step:2:0.1')).toEqual({ kind: 'step', every: 2, gamma: 0.1 });
    expect(parseSchedule('exp:0.98')).toEqual({ kind: 'exponential', gamma: 0.98 });
    expect(parseSchedule('cosine:10')).toEqual({ kind: 'cosine', epochs: 10, minLr: undefined });
    expect(() => parseSchedule('linear')).toThrow(ConfigError);
    expect(() => parseSchedule('step:x')).toThrow(/'x' is not a number/);
    expect(() => new LrScheduler(0.1, { kind: 'step', every: 0, gamma: 0.5 })).toThrow(ConfigError);
  });
});
