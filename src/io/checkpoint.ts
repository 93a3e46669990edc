/**
 * Training checkpoints in the safetensors format. Parameters are stored under their PyTorch names and
 * layouts (fc1.weight [out, in], fc1.bias [out], bn1.running_mean ...), so
 *   state = safetensors.torch.load_file(path); model.load_state_dict({k: v for k, v in state.items()
 *           if not k.startswith('optimizer.')})
 * loads the weights into an equivalent torch.nn.Sequential of Linear layers. The optimizer's state is
 * stored per parameter as optimizer.state1.<name> / optimizer.state2.<name>, and everything else needed
 * to continue exactly (epoch, step, the shuffling generator's state, the schedule) in the metadata.
 */
import { DataFormatError, ShapeError } from '../errors';
import type { TuningTable } from '../kernels/matmul_select';
import { parseTable } from '../kernels/tuning_store';
import type { ParameterArena } from '../nn/parameters';
import { decodeSafetensors, encodeSafetensors, type NamedSafetensorsTensor } from './safetensors';

export const CHECKPOINT_FORMAT = 'webgrad-checkpoint-1';

export interface CheckpointMeta {
  epoch: number;
  step: number;
  seed: number;
  /** JSON of the generator state, the model, the optimizer and the schedule. */
  shuffleRng: string;
  model: string;
  optimizer: string;
  scheduler: string;
  /**
   * The matmul variants the run used (src/kernels/matmul_select.ts). A resumed run plans with this table,
   * so it runs the same kernels and sums in the same order (split-K sums differently from the others) and
   * its weights stay bitwise those of an uninterrupted run.
   */
  tuning?: TuningTable;
}

export interface CheckpointData {
  params: Float32Array;
  state1: Float32Array;
  state2: Float32Array;
  meta: CheckpointMeta;
}

export function encodeCheckpoint(arena: ParameterArena, data: CheckpointData): Uint8Array {
  const tensors: NamedSafetensorsTensor[] = [];
  for (const slot of arena.slots) {
    const range = (all: Float32Array) => all.slice(slot.offset, slot.offset + slot.size);
    tensors.push({ name: slot.name, dtype: 'F32', shape: slot.shape, data: range(data.params) });
    tensors.push({ name: `optimizer.state1.${slot.name}`, dtype: 'F32', shape: slot.shape, data: range(data.state1) });
    tensors.push({ name: `optimizer.state2.${slot.name}`, dtype: 'F32', shape: slot.shape, data: range(data.state2) });
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
    ...(meta.tuning ? { tuning: JSON.stringify(meta.tuning) } : {}),
  });
}

/** Reads a checkpoint into arena layout, checking every tensor against the model's parameters. */
export function decodeCheckpoint(bytes: Uint8Array, fileName: string, arena: ParameterArena): CheckpointData {
  const { tensors, metadata } = decodeSafetensors(bytes, fileName);
  if (metadata.webgrad !== CHECKPOINT_FORMAT) {
    throw new DataFormatError(`${fileName}: not a webgrad checkpoint (metadata 'webgrad' is ${JSON.stringify(metadata.webgrad)}, expected '${CHECKPOINT_FORMAT}').`);
  }
  const arrays = { params: new Float32Array(arena.totalFloats), state1: new Float32Array(arena.totalFloats), state2: new Float32Array(arena.totalFloats) };
  for (const slot of arena.slots) {
    for (const [key, name] of [['params', slot.name], ['state1', `optimizer.state1.${slot.name}`], ['state2', `optimizer.state2.${slot.name}`]] as const) {
      const tensor = tensors.get(name);
      if (!tensor) throw new ShapeError(`${fileName}: the checkpoint has no tensor '${name}', which the model needs. Was it saved from a different model?`);
      if (tensor.dtype !== 'F32') throw new DataFormatError(`${fileName}: tensor '${name}' is ${tensor.dtype}, expected F32.`);
      if (tensor.shape.join() !== slot.shape.join()) {
        throw new ShapeError(`${fileName}: tensor '${name}' has shape [${tensor.shape.join(', ')}] but the model's ${slot.name} is [${slot.shape.join(', ')}].`);
      }
      arrays[key].set(tensor.data as Float32Array, slot.offset);
    }
  }
  const int = (key: string) => {
    const value = Number(metadata[key]);
    if (!Number.isInteger(value) || value < 0) throw new DataFormatError(`${fileName}: metadata '${key}' is ${JSON.stringify(metadata[key])}, expected a non-negative integer.`);
    return value;
  };
  return {
    ...arrays,
    meta: {
      epoch: int('epoch'),
      step: int('step'),
      seed: int('seed'),
      shuffleRng: metadata.shuffle_rng ?? '',
      model: metadata.model ?? '',
      optimizer: metadata.optimizer ?? '',
      scheduler: metadata.scheduler ?? '{}',
      ...(metadata.tuning !== undefined ? { tuning: tuningOf(metadata.tuning, fileName) } : {}),
    },
  };
}

function tuningOf(text: string, fileName: string): TuningTable {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const table = parseTable(value);
  if (!table || Object.keys(table).length !== Object.keys(value as object).length) {
    throw new DataFormatError(`${fileName}: metadata 'tuning' is not a JSON object of variant ids (${JSON.stringify(text.slice(0, 80))}). Remove the entry to plan the resumed run afresh.`);
  }
  return table;
}
