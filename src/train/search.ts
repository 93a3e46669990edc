/**
 * Hyperparameter search: grid search over every combination, or random search (learning rate drawn
 * log-uniformly, the rest from lists). Every trial builds its own Trainer on one shared GpuResources
 * (so pipelines compiled once are reused) and trains on the GPU; results come back sorted by
 * validation accuracy.
 */
import { ConfigError } from '../errors';
import type { GpuContext } from '../gpu/device';
import { GpuResources } from '../gpu/resources';
import { Rng } from '../data/rng';
import type { Dataset } from '../data/dataset';
import type { MlpConfig } from '../nn/mlp';
import type { OptimizerName } from '../optim/optimizer';
import { Trainer } from './trainer';

export interface Trial {
  lr: number;
  batchSize: number;
  optimizer: OptimizerName;
  weightDecay: number;
  hidden: number[];
}

export interface TrialResult extends Trial {
  valAccuracy: number;
  valLoss: number;
  trainLoss: number;
  seconds: number;
}

export interface SearchSpace {
  /** Random search draws log-uniformly from [min, max]; grid search uses `values`. */
  lr: { min: number; max: number } | { values: number[] };
  batchSize: number[];
  optimizer: OptimizerName[];
  weightDecay: number[];
  hidden: number[][];
}

export interface SearchOptions {
  space: SearchSpace;
  mode: 'grid' | 'random';
  /** Number of random trials (random mode). */
  trials?: number;
  epochs: number;
  seed?: number;
  /** Input and output widths around the searched hidden layers. */
  inputs: number;
  classes: number;
  activation?: MlpConfig['activation'];
  onTrial?: (result: TrialResult, index: number, total: number) => void;
}

export function gridTrials(space: SearchSpace): Trial[] {
  if (!('values' in space.lr)) throw new ConfigError('Grid search needs a list of learning rates (lr: { values: [...] }).');
  const trials: Trial[] = [];
  for (const lr of space.lr.values)
    for (const batchSize of space.batchSize)
      for (const optimizer of space.optimizer)
        for (const weightDecay of space.weightDecay) for (const hidden of space.hidden) trials.push({ lr, batchSize, optimizer, weightDecay, hidden });
  return trials;
}

export function randomTrials(space: SearchSpace, count: number, rng: Rng): Trial[] {
  const pick = <T>(list: T[]): T => list[rng.nextBelow(list.length)];
  return Array.from({ length: count }, () => {
    const lr =
      'values' in space.lr
        ? pick(space.lr.values)
        : Math.exp(Math.log(space.lr.min) + rng.nextFloat() * (Math.log(space.lr.max) - Math.log(space.lr.min)));
    return { lr, batchSize: pick(space.batchSize), optimizer: pick(space.optimizer), weightDecay: pick(space.weightDecay), hidden: pick(space.hidden) };
  });
}

export async function search(gpu: GpuContext | GpuResources, train: Dataset, validation: Dataset, options: SearchOptions): Promise<TrialResult[]> {
  const resources = gpu instanceof GpuResources ? gpu : new GpuResources(gpu);
  const rng = new Rng(options.seed ?? 0);
  const trials = options.mode === 'grid' ? gridTrials(options.space) : randomTrials(options.space, options.trials ?? 8, rng);
  if (trials.length === 0) throw new ConfigError('The search space is empty.');
  const results: TrialResult[] = [];
  for (const [index, trial] of trials.entries()) {
    const started = performance.now();
    // The validation split takes the trainer's evaluation slot, so its figures arrive as test*.
    const trainer = await Trainer.create(resources, train, validation, {
      model: { layers: [options.inputs, ...trial.hidden, options.classes], activation: options.activation ?? 'relu' },
      optimizer: { name: trial.optimizer, lr: trial.lr, weightDecay: trial.weightDecay },
      batchSize: trial.batchSize,
      seed: options.seed ?? 0,
    });
    try {
      const reports = await trainer.fit({ epochs: options.epochs });
      const last = reports[reports.length - 1];
      const result = { ...trial, valAccuracy: last.testAccuracy ?? NaN, valLoss: last.testLoss ?? NaN, trainLoss: last.loss, seconds: (performance.now() - started) / 1000 };
      results.push(result);
      options.onTrial?.(result, index, trials.length);
    } catch (error) {
      // A diverging trial is a result too (the worst one), not a reason to stop the search.
      const result = { ...trial, valAccuracy: 0, valLoss: Infinity, trainLoss: Infinity, seconds: (performance.now() - started) / 1000 };
      results.push(result);
      options.onTrial?.(result, index, trials.length);
      if (!(error instanceof Error) || error.name !== 'NonFiniteError') throw error;
    } finally {
      trainer.destroy();
    }
  }
  return results.sort((a, b) => b.valAccuracy - a.valAccuracy);
}

export function formatResults(results: TrialResult[]): string {
  const header = ['rank', 'val acc', 'val loss', 'train loss', 'lr', 'batch', 'optimizer', 'decay', 'hidden', 'seconds'];
  const rows = results.map((r, i) => [
    String(i + 1),
    `${(100 * r.valAccuracy).toFixed(2)}%`,
    r.valLoss.toFixed(4),
    r.trainLoss.toFixed(4),
    r.lr.toExponential(2),
    String(r.batchSize),
    r.optimizer,
    String(r.weightDecay),
    r.hidden.join('-'),
    r.seconds.toFixed(1),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
