/**
 * Where a run stands: the counters an epoch's submission advances as it goes, a checkpoint records and
 * `restore` sets. The trainer and its helpers (src/train/epoch_submission.ts, src/train/trainer_checkpoint.ts)
 * share this one mutable object rather than copies, so each reads the counters when it needs them: a
 * checkpoint, for one, reads them after its readback, as the trainer always has.
 */
export interface RunCounters {
  /** Epochs started (an epoch counts from the moment its submission begins). */
  epochsDone: number;
  globalStep: number;
  /** num_batches_tracked of the starting weights; the run's steps add to it. */
  batchesTrackedBefore: number;
  /** The learning rate of the epoch's last step (NaN before the first epoch and after a restore). */
  currentLr: number;
}
