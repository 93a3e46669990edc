/**
 * Ensembles (lesson 004): K members of the same network trained from different seeds (so different
 * initial weights, shuffling, dropout masks and augmentation), scored on the test set by the mean of their
 * predicted class probabilities. The mean is built on the GPU: each member's forward pass in evaluation
 * mode adds 1/K of its probabilities into one buffer (`Trainer.accumulatePredictions`), so nothing is
 * read back per member; the mean is read once at the end and its argmax taken here. A member's own
 * accuracy is its test evaluation on the GPU. Members train one after another and each is destroyed before
 * the next starts, so an ensemble needs the GPU memory of one member (and the mean), not K.
 */
import { ConfigError } from '../errors';
import type { Dataset } from '../data/dataset';
import type { GpuContext } from '../gpu/device';
import { GpuResources } from '../gpu/resources';
import { readFloats } from '../gpu/readback';
import { resolveLoss } from './loss';
import type { FitOptions, TrainerOptions } from './options';
import type { EpochReport } from './reports';
import { Trainer } from './trainer';

export interface EnsembleMember {
  seed: number;
  testAccuracy: number;
  reports: EpochReport[];
}

export interface EnsembleReport {
  members: EnsembleMember[];
  /** The mean of the members' test accuracies. */
  meanMemberAccuracy: number;
  /** Accuracy of the argmax of the members' mean probabilities. */
  testAccuracy: number;
  /** The members' mean probabilities [test count, classes], averaged on the GPU. */
  probabilities: Float32Array;
}

export interface EnsembleOptions {
  /** Number of members (at least 2). Member k trains with seed `options.seed + k`. */
  members: number;
  /** Called with each member's epoch reports as it trains (member index from 0). */
  onEpoch?: (member: number, report: EpochReport) => void;
}

/** Mean of equally shaped probability arrays, in float64 (e.g. of saved models' `predict` outputs). */
export function meanProbabilities(members: readonly Float32Array[]): Float64Array {
  if (members.length === 0) throw new ConfigError('meanProbabilities: no members.');
  const mean = new Float64Array(members[0].length);
  for (const p of members) {
    if (p.length !== mean.length) throw new ConfigError(`meanProbabilities: member lengths differ (${p.length} vs ${mean.length}).`);
    for (let i = 0; i < p.length; i++) mean[i] += p[i];
  }
  for (let i = 0; i < mean.length; i++) mean[i] /= members.length;
  return mean;
}

/** Fraction of rows of `probabilities` ([labels.length, classes]) whose argmax (first on ties) is the label. */
export function argmaxAccuracy(probabilities: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[r * classes + c] > probabilities[r * classes + best]) best = c;
    if (best === labels[r]) correct++;
  }
  return correct / labels.length;
}

/** Trains `ensemble.members` members on `train` and scores each, and their mean, on the labelled `test` set. */
export async function trainEnsemble(
  gpu: GpuContext | GpuResources,
  train: Dataset,
  test: Dataset,
  options: TrainerOptions,
  fit: Omit<FitOptions, 'onEpoch'>,
  ensemble: EnsembleOptions,
): Promise<EnsembleReport> {
  const count = ensemble.members;
  if (!Number.isInteger(count) || count < 2) throw new ConfigError(`An ensemble needs a whole number of members, at least 2; got ${count}.`);
  if (!resolveLoss(options.loss).usesLabels || !test.labels) {
    throw new ConfigError('An ensemble averages class probabilities: it needs a classification loss and a test set with class labels.');
  }
  const resources = gpu instanceof GpuResources ? gpu : new GpuResources(gpu);
  const base = options.seed ?? 0;
  const members: EnsembleMember[] = [];
  let mean: GPUBuffer | undefined;
  let classes = 0;
  try {
    for (let k = 0; k < count; k++) {
      const seed = base + k;
      const trainer = await Trainer.create(resources, train, test, { ...options, seed });
      try {
        const reports = await trainer.fit({ ...fit, onEpoch: ensemble.onEpoch && ((r) => ensemble.onEpoch!(k, r)) });
        classes = trainer.model.outputShape[0];
        mean ??= resources.createStorage('ensemble.mean', new Float32Array(test.count * classes));
        await trainer.accumulatePredictions(test.x, mean, 1 / count);
        members.push({ seed, testAccuracy: (await trainer.evaluate()).accuracy, reports });
      } finally {
        trainer.destroy();
      }
    }
    const probabilities = await readFloats(resources, mean!);
    return {
      members,
      meanMemberAccuracy: members.reduce((s, m) => s + m.testAccuracy, 0) / count,
      testAccuracy: argmaxAccuracy(probabilities, test.labels, classes),
      probabilities,
    };
  } finally {
    if (mean) resources.destroyBuffer(mean);
  }
}
