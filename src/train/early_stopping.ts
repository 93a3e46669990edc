/**
 * Early stopping (Prechelt 1998; Keras' EarlyStopping): stop once the watched metric has not improved by
 * at least `minDelta` for `patience` epochs, and remember the best epoch so its weights can be restored.
 */
import { ConfigError } from '../errors';
import type { EpochReport } from './trainer';

export interface EarlyStoppingOptions {
  /** Default 'valLoss'. Without a validation split, the test metrics are watched instead (with a warning in the docs: that leaks the test set into model selection). */
  monitor?: 'valLoss' | 'valAccuracy';
  patience?: number;
  minDelta?: number;
  /** Restore the best epoch's weights when training ends (default true). */
  restoreBest?: boolean;
}

export class EarlyStopping {
  private best = Infinity;
  private wait = 0;
  bestEpoch: number | undefined;
  readonly patience: number;
  readonly minDelta: number;
  readonly monitor: 'valLoss' | 'valAccuracy';

  constructor(
    options: EarlyStoppingOptions,
    private readonly hasValidation: boolean,
  ) {
    this.monitor = options.monitor ?? 'valLoss';
    this.patience = options.patience ?? 5;
    this.minDelta = options.minDelta ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new ConfigError(`Early stopping patience must be a non-negative integer; got ${this.patience}.`);
    if (!(this.minDelta >= 0)) throw new ConfigError(`Early stopping minDelta must be ≥ 0; got ${this.minDelta}.`);
    if (this.monitor !== 'valLoss' && this.monitor !== 'valAccuracy') throw new ConfigError(`Early stopping monitors 'valLoss' or 'valAccuracy'; got '${this.monitor}'.`);
  }

  /** Lower is better: losses as they are, accuracies negated. */
  private score(report: EpochReport): number {
    const loss = this.hasValidation ? report.valLoss : report.testLoss;
    const accuracy = this.hasValidation ? report.valAccuracy : report.testAccuracy;
    const value = this.monitor === 'valLoss' ? loss : accuracy === undefined ? undefined : -accuracy;
    if (value === undefined) throw new ConfigError('Early stopping needs a validation split (options.validation) or a test set to watch.');
    return value;
  }

  observe(report: EpochReport): { improved: boolean; stop: boolean } {
    const score = this.score(report);
    if (score < this.best - this.minDelta) {
      this.best = score;
      this.bestEpoch = report.epoch;
      this.wait = 0;
      return { improved: true, stop: false };
    }
    this.wait++;
    return { improved: false, stop: this.wait >= this.patience };
  }
}
