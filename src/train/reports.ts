/**
 * What training tells its caller: one EpochReport per epoch (losses, accuracies, learning rate, gradient
 * norms, time), computed from the few accumulators that come back from the GPU once per epoch, and a
 * NonFiniteError naming the epoch and step when the loss or the gradients stopped being finite.
 */
import { NonFiniteError } from '../errors';
import type { ParameterArena } from '../nn/parameters';
import { totalsOf, type MetricTotals } from './metrics';

export interface EpochReport {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Learning rate at the end of the epoch. */
  lr: number;
  /** Mean and largest global gradient norm over the epoch's steps (before clipping). */
  gradNorm: number;
  maxGradNorm: number;
  /** Mean gradient norm of each parameter over the epoch: vanishing or exploding gradients show here. */
  layerGradNorms: Record<string, number>;
  /** Wall time from the previous report (or the start of fit) until the GPU finished this epoch. */
  seconds: number;
  samplesPerSecond: number;
}

export interface StepReport {
  epoch: number;
  /** Steps completed in this epoch. */
  step: number;
  /** Mean loss over the steps since the previous step report. */
  loss: number;
}

export const lossOf = (t: MetricTotals) => t.lossSum / Math.max(1, t.rows);
export const accuracyOf = (t: MetricTotals) => t.correct / Math.max(1, t.rows);

export interface EpochValues {
  epoch: number;
  /** Global step count before the epoch's first step. */
  firstStep: number;
  lr: number;
  train: Float32Array;
  stats: Float32Array;
  validation?: Float32Array;
  test?: Float32Array;
}

/** The report of one epoch from its accumulators; throws NonFiniteError when training diverged. */
export function epochReport(values: EpochValues, arena: ParameterArena, seconds: number): EpochReport {
  const train = totalsOf(values.train);
  const stats = values.stats;
  const slots = arena.slots.length;
  const steps = Math.max(1, stats[slots + 1]);
  const firstBadStep = stats[slots + 2];
  if (train.nonFinite || firstBadStep > 0) {
    const step = firstBadStep > 0 ? firstBadStep - values.firstStep : undefined;
    throw new NonFiniteError(
      `Training diverged: the ${firstBadStep > 0 ? 'gradients' : 'loss'} became NaN or Inf in epoch ${values.epoch}` +
        `${step ? `, step ${step}` : ''}. Likely causes: a learning rate too high (now ${values.lr}), no gradient clipping ` +
        `(try clipNorm: 1), or bad input data (unnormalised or NaN values).`,
      values.epoch,
      step ?? 0,
    );
  }
  const report: EpochReport = {
    epoch: values.epoch,
    loss: lossOf(train),
    accuracy: accuracyOf(train),
    lr: values.lr,
    gradNorm: stats[slots] / steps,
    maxGradNorm: stats[slots + 3],
    layerGradNorms: Object.fromEntries(arena.slots.map((slot, i) => [slot.name, stats[i] / steps])),
    seconds,
    samplesPerSecond: train.rows / seconds,
  };
  if (values.validation) {
    const t = totalsOf(values.validation);
    report.valLoss = lossOf(t);
    report.valAccuracy = accuracyOf(t);
  }
  if (values.test) {
    const t = totalsOf(values.test);
    report.testLoss = lossOf(t);
    report.testAccuracy = accuracyOf(t);
  }
  return report;
}
