/**
 * Training checkpoints in the safetensors format: the model's state dict exactly as PyTorch names and lays
 * it out (src/io/state_dict.ts), so
 *   state = safetensors.torch.load_file(path)
 *   model.load_state_dict({k: v for k, v in state.items() if not k.startswith('optimizer.')})
 * loads it; beside it the optimizer's state per parameter (optimizer.state1.<name>, optimizer.state2.<name>)
 * and in the metadata everything else needed to continue exactly: epoch, step, seed, the shuffling
 * generator's state, the layer list, the optimizer, the schedule, and the kernels chosen for this adapter.
 */
import { DataFormatError, ShapeError } from '../errors';
import type { Model } from '../nn/model';
import type { ParameterArena } from '../nn/parameters';
import { decodeSafetensors, encodeSafetensors, type NamedSafetensorsTensor } from './safetensors';
import { readStateDict, stateDictTensors, type StateValues } from './state_dict';

export const CHECKPOINT_FORMAT = 'webgrad-checkpoint-2';
const OPTIMIZER_PREFIX = 'optimizer.';

export interface CheckpointMeta {
  epoch: number;
  step: number;
  seed: number;
  /** JSON of the generator state, the layer list, the optimizer and the schedule. */
  shuffleRng: string;
  model: string;
  optimizer: string;
  scheduler: string;
}

export interface CheckpointData extends StateValues {
  state1: Float32Array;
  state2: Float32Array;
  meta: CheckpointMeta;
}

export interface Arenas {
  arena: ParameterArena;
  stateArena: ParameterArena;
}

export function encodeCheckpoint(model: Model, { arena, stateArena }: Arenas, data: CheckpointData): Uint8Array {
  const tensors: NamedSafetensorsTensor[] = stateDictTensors(model, arena, stateArena, data);
  for (const slot of arena.slots) {
    const range = (all: Float32Array) => all.slice(slot.offset, slot.offset + slot.size);
    tensors.push({ name: `${OPTIMIZER_PREFIX}state1.${slot.name}`, dtype: 'F32', shape: slot.shape, data: range(data.state1) });
    tensors.push({ name: `${OPTIMIZER_PREFIX}state2.${slot.name}`, dtype: 'F32', shape: slot.shape, data: range(data.state2) });
  }
  const meta = data.meta;
  return encodeSafetensors(tensors, {
    format: 'pt',
    webgrad: CHECKPOINT_FORMAT,
    epoch: String(meta.epoch),
    step: String(meta.step),
    seed: String(meta.seed),
    shuffle_rng: meta.shuffleRng,
    model: meta.model,
    optimizer: meta.optimizer,
    scheduler: meta.scheduler,
  });
}

/** Reads a checkpoint for `model`, checking every tensor against its parameters and buffers. */
export function decodeCheckpoint(bytes: Uint8Array, fileName: string, model: Model, arenas: Arenas, initial: StateValues): CheckpointData {
  const { tensors, metadata } = decodeSafetensors(bytes, fileName);
  if (metadata.webgrad !== CHECKPOINT_FORMAT) {
    throw new DataFormatError(`${fileName}: not a webgrad checkpoint (metadata 'webgrad' is ${JSON.stringify(metadata.webgrad)}, expected '${CHECKPOINT_FORMAT}').`);
  }
  const values = readStateDict(tensors, fileName, model, arenas.arena, arenas.stateArena, initial, { ignorePrefixes: [OPTIMIZER_PREFIX] });
  const state1 = new Float32Array(arenas.arena.totalFloats);
  const state2 = new Float32Array(arenas.arena.totalFloats);
  for (const slot of arenas.arena.slots) {
    for (const [array, name] of [[state1, `${OPTIMIZER_PREFIX}state1.${slot.name}`], [state2, `${OPTIMIZER_PREFIX}state2.${slot.name}`]] as const) {
      const tensor = tensors.get(name);
      if (!tensor) throw new ShapeError(`${fileName}: the checkpoint has no tensor '${name}', which the optimizer needs.`);
      if (tensor.dtype !== 'F32') throw new DataFormatError(`${fileName}: tensor '${name}' is ${tensor.dtype}, expected F32.`);
      if (tensor.shape.join() !== slot.shape.join()) {
        throw new ShapeError(`${fileName}: tensor '${name}' has shape [${tensor.shape.join(', ')}] but the model's ${slot.name} is [${slot.shape.join(', ')}].`);
      }
      array.set(tensor.data as Float32Array, slot.offset);
    }
  }
  const int = (key: string) => {
    const value = Number(metadata[key]);
    if (!Number.isInteger(value) || value < 0) throw new DataFormatError(`${fileName}: metadata '${key}' is ${JSON.stringify(metadata[key])}, expected a non-negative integer.`);
    return value;
  };
  return {
    ...values,
    state1,
    state2,
    meta: {
      epoch: int('epoch'),
      step: int('step'),
      seed: int('seed'),
      shuffleRng: metadata.shuffle_rng ?? '',
      model: metadata.model ?? '',
      optimizer: metadata.optimizer ?? '',
      scheduler: metadata.scheduler ?? '{}',
    },
  };
}
