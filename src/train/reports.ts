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
  /**
   * The mean training loss of the epoch (the loss the trainer was given, src/train/loss.ts): the sum of its
   * batches' losses over the sum of their denominators (rows; elements; with class weights, the weights of
   * the targets), so each batch's mean counts in proportion to its denominator.
   */
  loss: number;
  /**
   * Classification: the fraction of correct predictions (argmax = label for cross-entropy; for bce,
   * per element, the logit's sign against target ≥ 0.5). Regression losses: NaN (see mse, mae).
   */
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Regression losses (mse, l1, huber, smooth_l1): mean squared and mean absolute error over all elements. */
  mse?: number;
  mae?: number;
  valMse?: number;
  valMae?: number;
  testMse?: number;
  testMae?: number;
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

export const lossOf = (t: MetricTotals) => (t.lossWeight > 0 ? t.lossSum / t.lossWeight : 0);
export const accuracyOf = (t: MetricTotals) => t.correct / Math.max(1, t.predictions);
export const mseOf = (t: MetricTotals) => t.squaredError / Math.max(1, t.predictions);
export const maeOf = (t: MetricTotals) => t.absoluteError / Math.max(1, t.predictions);

/** A split's loss and the metrics that fit it: accuracy for classification, MSE and MAE for regression. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  mse?: number;
  mae?: number;
}

export function evaluationOf(t: MetricTotals, regression: boolean): Evaluation {
  return regression ? { loss: lossOf(t), accuracy: NaN, mse: mseOf(t), mae: maeOf(t) } : { loss: lossOf(t), accuracy: accuracyOf(t) };
}

export interface EpochValues {
  epoch: number;
  /** Global step count before the epoch's first step. */
  firstStep: number;
  lr: number;
  train: Float32Array;
  stats: Float32Array;
  validation?: Float32Array;
  test?: Float32Array;
  /** The loss is a regression loss: report MSE and MAE, accuracy NaN. */
  regression?: boolean;
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
  const regression = !!values.regression;
  const trained = evaluationOf(train, regression);
  const report: EpochReport = {
    epoch: values.epoch,
    loss: trained.loss,
    accuracy: trained.accuracy,
    ...(regression && { mse: trained.mse, mae: trained.mae }),
    lr: values.lr,
    gradNorm: stats[slots] / steps,
    maxGradNorm: stats[slots + 3],
    layerGradNorms: Object.fromEntries(arena.slots.map((slot, i) => [slot.name, stats[i] / steps])),
    seconds,
    samplesPerSecond: train.rows / seconds,
  };
  if (values.validation) {
    const e = evaluationOf(totalsOf(values.validation), regression);
    report.valLoss = e.loss;
    report.valAccuracy = e.accuracy;
    if (regression) [report.valMse, report.valMae] = [e.mse, e.mae];
  }
  if (values.test) {
    const e = evaluationOf(totalsOf(values.test), regression);
    report.testLoss = e.loss;
    report.testAccuracy = e.accuracy;
    if (regression) [report.testMse, report.testMae] = [e.mse, e.mae];
  }
  return report;
}
