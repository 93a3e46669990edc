import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/train/diagnose';
import type { EpochReport } from '../../src/train/trainer';

const report = (epoch: number, loss: number, valLoss?: number, norms: Record<string, number> = { 'fc1.weight': 0.5 }): EpochReport => ({
  epoch,
  loss,
  accuracy: 0,
  valLoss,
  lr: 0.1,
  gradNorm: 1,
  maxGradNorm: 1,
  layerGradNorms: norms,
  seconds: 1,
  samplesPerSecond: 1,
});

describe('training report', () => {
  it('is quiet for a healthy run', () => {
    expect(diagnose([report(1, 1.0, 1.1), report(2, 0.6, 0.7), report(3, 0.4, 0.5)])).toEqual([]);
  });
  it('flags a loss that does not decrease', () => {
    expect(diagnose([report(1, 2.3), report(2, 2.31)])[0]).toMatch(/^loss not decreasing/);
  });
  it('flags a plateau', () => {
    expect(diagnose([report(1, 2), report(2, 1), report(3, 0.5), report(4, 0.499), report(5, 0.4985)])[0]).toMatch(/^plateau/);
  });
  it('flags overfitting: train loss falling while validation loss rises', () => {
    const history = [report(1, 1, 0.9), report(2, 0.6, 0.7), report(3, 0.4, 0.8), report(4, 0.2, 0.95)];
    expect(diagnose(history).some((l) => l.startsWith('overfitting: validation loss was lowest in epoch 2'))).toBe(true);
  });
  it('flags vanishing and exploding gradients per layer', () => {
    const lines = diagnose([report(1, 1, undefined, { 'fc1.weight': 1e-9, 'fc2.weight': 1e5, 'fc1.bias': 1e-12 })]);
    expect(lines).toEqual([expect.stringMatching(/^vanishing gradients: fc1\.weight/), expect.stringMatching(/^exploding gradients: fc2\.weight/)]);
  });
});
