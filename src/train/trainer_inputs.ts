/** Checks of `Trainer.create`'s inputs against each other, made before any GPU work. */
import { ConfigError, ShapeError } from '../errors';
import { sampleSize, type Dataset } from '../data/dataset';
import type { Model } from '../nn/model';
import { checkLossData, type ResolvedLoss } from './loss';

/** The test data against the training data, and both against the loss and the model's output. */
export function checkDataAgainstTraining(train: Dataset, test: Dataset | undefined, loss: ResolvedLoss, model: Model): void {
  for (const [name, data] of [['training', train], ['test', test]] as const) {
    if (!data) continue;
    if (sampleSize(data) !== sampleSize(train) || (data.labels === undefined) !== (train.labels === undefined)) {
      throw new ShapeError(`The ${name} data's samples are [${data.sampleShape.join(', ')}] with ${data.labels ? 'labels' : 'targets'}; the training data's are [${train.sampleShape.join(', ')}] with ${train.labels ? 'labels' : 'targets'}.`);
    }
    if (data.labels && data.numClasses !== train.numClasses && loss.classWeights) {
      throw new ShapeError(`The ${name} data has ${data.numClasses} classes; the training data's ${train.numClasses} (the class weights are per class).`);
    }
    checkLossData(loss, data, model.outputShape, name);
  }
}

/** Training steps per command buffer: a positive integer, or Infinity (the default) for a whole epoch. */
export function checkStepsPerSubmit(value: number | undefined): number {
  const steps = value ?? Infinity;
  if (!(steps >= 1) || (Number.isFinite(steps) && !Number.isInteger(steps))) {
    throw new ConfigError(`stepsPerSubmit must be a positive integer (or Infinity for a whole epoch); got ${steps}.`);
  }
  return steps;
}
