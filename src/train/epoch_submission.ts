/**
 * Submitting one epoch (src/train/trainer.ts `fit`): its transfer stage (frozen layers, learning-rate
 * multipliers), two queue writes (the shuffled order and the table of per-step values), then command buffers of at most `stepsPerSubmit` steps, then one that evaluates, takes
 * the end-of-epoch weight snapshot and copies every accumulator out. Nothing here waits for the GPU to run
 * it: the epoch's metrics resolve later, while the next epoch is already being submitted.
 */
import { shuffledIndices, type Rng } from '../data/rng';
import type { GpuDataset } from '../data/gpu_dataset';
import { mixupLambda } from '../data/mixup';
import { statsLength } from '../optim/optimizer';
import type { LrScheduler } from '../optim/schedule';
import type { GpuResources } from '../gpu/resources';
import type { BatchRunner } from './batch_runner';
import type { TransferPlan } from './transfer';
import { totalsOf, type MetricsReader } from './metrics';
import { METRICS_FLOATS } from './loss';
import type { SubmitQueue } from './submit_queue';
import { packStepTable, type TrainingState, type StepValues } from './training_state';
import type { TrainerParts } from './trainer_setup';
import type { FitOptions } from './options';
import type { RunCounters } from './run_counters';

export interface SubmittedEpoch {
  epoch: number;
  firstStep: number;
  lr: number;
  snapshot: 0 | 1;
  values: Promise<Float32Array[]>;
  /** Settles once every onStep report of this epoch has been delivered. */
  stepsDelivered: Promise<unknown>;
  /** Call once this epoch's onEpoch has run: the next epoch's step reports wait for it. */
  reported: () => void;
}

/** What an epoch's submission uses; the trainer passes its own (the training runner as it is after this epoch's transfer stage). */
export interface EpochPieces {
  device: GPUDevice;
  trainData: GpuDataset;
  trainRunner: BatchRunner;
  state: TrainingState;
  evaluations: TrainerParts['evaluations'];
  metrics: MetricsReader;
  submits: SubmitQueue;
  shuffleRng: Rng;
  scheduler: LrScheduler;
  options: { seed: number; stepsPerSubmit?: number };
}

/** An epoch's place in the order of reports: its step reports wait for `gate`, the next epoch's for `reported`. */
export interface ReportTurn {
  gate: Promise<void>;
  reported: () => void;
}

/**
 * Reports arrive in order across epochs, though an epoch is submitted before the previous one has been
 * reported: this epoch's step reports after the previous epoch's report, before its own.
 */
export class ReportOrder {
  /** Resolves when the last submitted epoch's report has been delivered. */
  private previousReported: Promise<void> = Promise.resolve();

  /** The turn of the epoch being submitted now. */
  next(): ReportTurn {
    const gate = this.previousReported;
    let reported!: () => void;
    this.previousReported = new Promise<void>((resolve) => (reported = resolve));
    return { gate, reported };
  }
}

/**
 * Frozen layers and learning-rate multipliers for the epoch about to run (src/train/transfer.ts): the
 * optimizer's slot rows, and, when progressive unfreezing thaws a layer, a training plan that computes
 * its gradients, handed to `replace` at once. The old plan's buffers go once the work already submitted
 * with them is done.
 */
export async function enterTransferStage(resources: GpuResources, transfer: TransferPlan, state: TrainingState, runner: BatchRunner, epoch: number, replace: (rebuilt: BatchRunner) => void): Promise<void> {
  if (!transfer.active) return;
  state.writeSlotUpdates(transfer.slotUpdates(state.arena, epoch, runner.steps));
  const frozen = transfer.frozenParameters(epoch);
  const current = runner.setup.frozen ?? new Set();
  if (frozen.size === current.size && [...frozen].every((name) => current.has(name))) return;
  replace(await runner.rebuilt(resources, { frozen }));
  await resources.device.queue.onSubmittedWorkDone();
  runner.destroy();
}

/** The per-step values of the `steps` steps from `counters.globalStep` on (learning rates from the schedule, mixup λs). */
export function stepTable(pieces: Pick<EpochPieces, 'trainData' | 'trainRunner' | 'scheduler' | 'options'>, counters: RunCounters, epoch: number, steps: number): StepValues[] {
  const mixup = pieces.trainData.source.augment?.mixup ?? 0;
  const seed = pieces.options.seed;
  return Array.from({ length: steps }, (_, s) => {
    const step = counters.globalStep + s;
    return { step, batchStart: s * pieces.trainRunner.batchSize, seed, mixLambda: mixupLambda(mixup, seed, step), lr: pieces.scheduler.lr(epoch, step) };
  });
}

/**
 * Submits epoch `epoch` (1-based; `counters.epochsDone` already counts it) of training and, if `evaluate`,
 * its evaluation; the accumulators resolve once the GPU has run it. `counters.globalStep` advances with each
 * command buffer, `counters.currentLr` is the epoch's last learning rate.
 */
export async function submitEpoch(pieces: EpochPieces, counters: RunCounters, epoch: number, turn: ReportTurn, fit: FitOptions, evaluate: boolean): Promise<SubmittedEpoch> {
  const { device, trainData, trainRunner, state, metrics, submits } = pieces;
  const firstStep = counters.globalStep;
  const steps = trainRunner.steps;
  const table = stepTable(pieces, counters, epoch - 1, steps);
  trainData.setOrder(shuffledIndices(trainData.data.count, pieces.shuffleRng));
  state.writeStepTable(packStepTable(table));
  counters.currentLr = table[steps - 1].lr;
  const chunk = Math.min(steps, pieces.options.stepsPerSubmit ?? Infinity, fit.reportEvery ?? Infinity);
  let lastReported = { lossSum: 0, lossWeight: 0 };
  let stepsDelivered: Promise<unknown> = turn.gate;
  for (let start = 0; start < steps; start += chunk) {
    const end = Math.min(steps, start + chunk);
    const encoder = device.createCommandEncoder();
    if (start === 0) {
      encoder.clearBuffer(trainData.metrics);
      encoder.clearBuffer(state.buffer(state.optimizerBuffers.stats));
    }
    for (let s = start; s < end; s++) trainRunner.encode(encoder, s);
    counters.globalStep += end - start;
    const reportNow = fit.reportEvery && (end % fit.reportEvery === 0 || end === steps);
    const read = reportNow ? await metrics.snapshot(encoder, [{ buffer: trainData.metrics, floats: METRICS_FLOATS }]) : undefined;
    await submits.submit(encoder);
    if (read) {
      const values = read();
      stepsDelivered = stepsDelivered.then(async () => {
        const totals = totalsOf((await values)[0]);
        fit.onStep?.({ epoch, step: end, loss: (totals.lossSum - lastReported.lossSum) / (totals.lossWeight - lastReported.lossWeight) });
        lastReported = totals;
      });
    }
    fit.afterSubmit?.(epoch, end);
  }
  const sources = [
    { buffer: trainData.metrics, floats: METRICS_FLOATS },
    { buffer: state.buffer(state.optimizerBuffers.stats), floats: statsLength(state.arena) },
  ];
  const encoder = device.createCommandEncoder();
  for (const evaluation of [pieces.evaluations.validation, pieces.evaluations.test]) {
    if (!evaluate || !evaluation) continue;
    evaluation.encode(encoder);
    sources.push({ buffer: evaluation.metrics, floats: METRICS_FLOATS });
  }
  // Two snapshots, alternating: early stopping copies an epoch's to `best` only after the next epoch has
  // been submitted, so the next epoch must write the other one.
  const snapshot = (epoch % 2) as 0 | 1;
  encoder.copyBufferToBuffer(state.params, 0, state.buffer(state.snapshots[snapshot]), 0, state.arena.totalFloats * 4);
  const read = await metrics.snapshot(encoder, sources);
  await submits.submit(encoder);
  return { epoch, firstStep, lr: counters.currentLr, snapshot, values: read(), stepsDelivered, reported: turn.reported };
}
