/**
 * What `fit` does with an epoch once the GPU has run it (src/train/trainer.ts): its report built from the
 * accumulators, kept in order, and handed to the schedule (plateau), early stopping and `onEpoch`. One of
 * these lives for one `fit` call; it also keeps the time between reports, which is an epoch's duration.
 */
import { epochReport, type EpochReport } from './reports';
import type { EarlyStopping } from './early_stopping';
import type { LrScheduler } from '../optim/schedule';
import type { GpuResources } from '../gpu/resources';
import type { ResolvedLoss } from './loss';
import type { TrainingState } from './training_state';
import type { TrainerParts } from './trainer_setup';
import type { FitOptions } from './options';
import type { SubmittedEpoch } from './epoch_submission';

export interface CompletionPieces {
  resources: GpuResources;
  state: TrainingState;
  loss: ResolvedLoss;
  evaluations: TrainerParts['evaluations'];
  scheduler: LrScheduler;
  /** The trainer's history: every report is added to it too. */
  history: EpochReport[];
}

export class EpochCompletion {
  /** This fit's reports, in epoch order. */
  readonly reports: EpochReport[] = [];
  /** Set once early stopping says stop. */
  stop = false;
  private last = performance.now();

  constructor(
    private readonly pieces: CompletionPieces,
    private readonly fit: FitOptions,
    private readonly evaluate: boolean,
    private readonly stopper: EarlyStopping | undefined,
  ) {}

  /** Waits for `submitted`'s values and step reports, then reports it. */
  async finish(submitted: SubmittedEpoch): Promise<void> {
    const { resources, state, loss, evaluations, scheduler, history } = this.pieces;
    const [train, stats, ...evals] = await submitted.values;
    await submitted.stepsDelivered;
    const now = performance.now();
    let e = 0;
    const validation = this.evaluate && evaluations.validation ? evals[e++] : undefined;
    const test = this.evaluate && evaluations.test ? evals[e++] : undefined;
    const report = epochReport({ epoch: submitted.epoch, firstStep: submitted.firstStep, lr: submitted.lr, train, stats, validation, test, regression: loss.regression }, state.arena, (now - this.last) / 1000);
    this.last = now;
    this.reports.push(report);
    history.push(report);
    if (report.valLoss !== undefined) scheduler.observe(report.valLoss);
    if (this.stopper) {
      const verdict = this.stopper.observe(report);
      if (verdict.improved) state.copyParams(state.snapshots[submitted.snapshot], state.best);
      this.stop ||= verdict.stop;
    }
    this.fit.onEpoch?.(report);
    submitted.reported();
    resources.gpu.check();
  }
}
