/**
 * A trainer's state leaving and entering it (src/train/trainer.ts): its weights by name, its state dict,
 * and checkpoints (src/io/checkpoint.ts), which add the optimizer state and where the run stands (counters,
 * shuffling generator, schedule, seed) so that a restored run continues exactly.
 */
import { decodeCheckpoint, type CheckpointMeta, type DecodedCheckpoint } from '../io/checkpoint';
import { stateDictTensors, type StateValues } from '../io/state_dict';
import type { NamedSafetensorsTensor } from '../io/safetensors';
import { preprocessingMetadata, type SavedPreprocessing } from '../io/preprocessing_metadata';
import type { Rng } from '../data/rng';
import type { Model } from '../nn/model';
import type { OptimizerOptions } from '../optim/optimizer';
import type { LrScheduler } from '../optim/schedule';
import type { TuningTable } from '../kernels/matmul_select';
import type { TrainingState } from './training_state';
import type { TrainerOptions } from './options';
import type { RunCounters } from './run_counters';

/** The parameters, by name, in PyTorch layout ([out, in] weights, [out] biases). */
export async function weightsByName(state: TrainingState): Promise<Map<string, Float32Array>> {
  const { params } = await state.read();
  return new Map(state.arena.slots.map((slot) => [slot.name, params.slice(slot.offset, slot.offset + slot.size)]));
}

/** Everything on the GPU a state dict or checkpoint holds; num_batches_tracked counts the steps run so far. */
export async function stateValues(state: TrainingState, counters: RunCounters): Promise<StateValues & { state1: Float32Array; state2: Float32Array }> {
  const values = await state.read();
  return { ...values, batchesTracked: counters.batchesTrackedBefore + counters.globalStep };
}

/** The model's state dict (parameters, running statistics, counters) as PyTorch names and lays it out. */
export async function stateDict(model: Model, state: TrainingState, counters: RunCounters): Promise<NamedSafetensorsTensor[]> {
  return stateDictTensors(model, state.arena, state.stateArena, await stateValues(state, counters));
}

/** Where the run stands besides its tensors, as a checkpoint records it. */
export interface RunDescription {
  seed: number;
  shuffleRng: Rng;
  model: Model;
  optimizer: Required<OptimizerOptions>;
  scheduler: LrScheduler;
  tuning: TuningTable;
  preprocessing: SavedPreprocessing;
}

export function checkpointMeta(counters: RunCounters, run: RunDescription): CheckpointMeta {
  return {
    epoch: counters.epochsDone,
    step: counters.globalStep,
    seed: run.seed,
    shuffleRng: JSON.stringify(run.shuffleRng.state()),
    model: JSON.stringify(run.model.spec),
    optimizer: JSON.stringify(run.optimizer),
    scheduler: JSON.stringify(run.scheduler.state()),
    tuning: run.tuning,
    preprocessing: preprocessingMetadata(run.preprocessing),
  };
}

/**
 * Decodes a checkpoint for this model and warns (through `options.warn`) when it was trained with other
 * matmul kernels than `tuning`. decodeCheckpoint checks the whole file (tensors, counters, generator and
 * schedule state) first, so a refused file throws before anything of the trainer has changed.
 */
export function decodeForRestore(bytes: Uint8Array, fileName: string, model: Model, state: TrainingState, tuning: TuningTable, options: Pick<TrainerOptions, 'warn'>): DecodedCheckpoint {
  const blank = { params: new Float32Array(state.arena.totalFloats), state: new Float32Array(state.stateArena.totalFloats), batchesTracked: 0 };
  const data = decodeCheckpoint(bytes, fileName, model, state, blank);
  const differs = Object.entries(data.meta.tuning ?? {}).filter(([key, id]) => key in tuning && tuning[key] !== id);
  if (differs.length) {
    options.warn?.(
      `${fileName} was trained with other matmul kernels for ${differs.length} product(s) than this trainer planned; ` +
        'the run continues, but not bitwise. Create the trainer with { tuning: <the checkpoint\'s table> } to resume exactly (the CLI does).',
    );
  }
  return data;
}

/** Puts a decoded checkpoint's generator, schedule, tensors and counters in place (the seed is the trainer's to replace). */
export function resumeFrom(data: DecodedCheckpoint, run: { shuffleRng: Rng; scheduler: LrScheduler; state: TrainingState; counters: RunCounters }): void {
  run.shuffleRng.setState(data.shuffleRngState);
  run.scheduler.setState(data.schedulerState);
  run.state.write(data);
  run.counters.epochsDone = data.meta.epoch;
  run.counters.globalStep = data.meta.step;
  run.counters.batchesTrackedBefore = data.batchesTracked - data.meta.step;
  run.counters.currentLr = NaN;
}
