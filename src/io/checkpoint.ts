/**
 * Training checkpoints in the safetensors format: the model's state dict exactly as PyTorch names and lays
 * it out (src/io/state_dict.ts), so
 *   state = safetensors.torch.load_file(path)
 *   model.load_state_dict({k: v for k, v in state.items() if not k.startswith('optimizer.')})
 * loads it; beside it the optimizer's state per parameter (optimizer.state1.<name>, optimizer.state2.<name>)
 * and in the metadata everything else needed to continue exactly: epoch, step, seed, the shuffling
 * generator's state, the layer list, the optimizer, the schedule, and the kernels chosen for this adapter.
 */
import { DataFormatError, preview, ShapeError } from '../errors';
import type { RngState } from '../data/rng';
import type { Model } from '../nn/model';
import type { TuningTable } from '../kernels/matmul_select';
import { parseTable } from '../kernels/tuning_store';
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
  /**
   * The matmul variants the run used (src/kernels/matmul_select.ts). A resumed run plans with this table,
   * so it runs the same kernels and sums in the same order (split-K sums differently from the others) and
   * its weights stay bitwise those of an uninterrupted run.
   */
  tuning?: TuningTable;
  /** The inputs' preprocessing (src/io/preprocessing_metadata.ts), so the file alone predicts as the run did. */
  preprocessing?: Record<string, string>;
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
    ...(meta.tuning ? { tuning: JSON.stringify(meta.tuning) } : {}),
    ...meta.preprocessing,
  });
}

/** What `decodeCheckpoint` gives back: the arrays and metadata, plus the run state parsed and checked. */
export interface DecodedCheckpoint extends CheckpointData {
  /** The shuffling generator's four u32 words (never all zero). */
  shuffleRngState: RngState;
  /** Reduce-on-plateau's progress (`LrScheduler.state()`; `best` is null for +Infinity, as JSON writes it). */
  schedulerState: { scale?: number; best?: number | null; badEpochs?: number };
}

/**
 * Reads a checkpoint for `model`, checking every tensor against its parameters and buffers and every
 * metadata field, so that nothing past this point can fail on the file's contents: a caller may change
 * its state only after this returns. Every refusal is a DataFormatError (or a ShapeError for a tensor the
 * model does not match) whose message starts with the file name and says what is wrong.
 */
export function decodeCheckpoint(bytes: Uint8Array, fileName: string, model: Model, arenas: Arenas, initial: StateValues): DecodedCheckpoint {
  const fail = (problem: string) => new DataFormatError(`${fileName}: ${problem}`);
  let decoded;
  try {
    decoded = decodeSafetensors(bytes, fileName);
  } catch (error) {
    if (!(error instanceof DataFormatError)) throw error;
    const problem = error.message.startsWith(`${fileName}: `) ? error.message.slice(fileName.length + 2) : error.message;
    throw fail(`not a webgrad checkpoint: ${problem}`);
  }
  const { tensors, metadata } = decoded;
  if (metadata.webgrad !== CHECKPOINT_FORMAT) {
    throw fail(`not a webgrad checkpoint (metadata 'webgrad' is ${preview(metadata.webgrad)}, expected '${CHECKPOINT_FORMAT}'); a weights-only file from --save cannot be resumed.`);
  }
  const values = readStateDict(tensors, fileName, model, arenas.arena, arenas.stateArena, initial, { ignorePrefixes: [OPTIMIZER_PREFIX] });
  const state1 = new Float32Array(arenas.arena.totalFloats);
  const state2 = new Float32Array(arenas.arena.totalFloats);
  for (const slot of arenas.arena.slots) {
    for (const [array, name] of [[state1, `${OPTIMIZER_PREFIX}state1.${slot.name}`], [state2, `${OPTIMIZER_PREFIX}state2.${slot.name}`]] as const) {
      const tensor = tensors.get(name);
      if (!tensor) throw new ShapeError(`${fileName}: the checkpoint has no tensor '${name}', which the optimizer needs. Was it saved from a different model?`);
      if (tensor.dtype !== 'F32') throw fail(`tensor '${name}' is ${tensor.dtype}, expected F32.`);
      if (tensor.shape.join() !== slot.shape.join()) {
        throw new ShapeError(`${fileName}: tensor '${name}' has shape [${tensor.shape.join(', ')}] but the model's ${slot.name} is [${slot.shape.join(', ')}].`);
      }
      array.set(tensor.data as Float32Array, slot.offset);
    }
  }
  const int = (key: string, max = Number.MAX_SAFE_INTEGER) => {
    const text = metadata[key];
    const value = Number(text);
    if (text === undefined || !/^\d+$/.test(text) || !(value <= max)) {
      throw fail(`metadata '${key}' is ${preview(text)}, expected an integer in [0, ${max}].`);
    }
    return value;
  };
  const meta: CheckpointMeta = {
    epoch: int('epoch'),
    step: int('step'),
    seed: int('seed'),
    shuffleRng: metadata.shuffle_rng ?? '',
    model: metadata.model ?? '',
    optimizer: metadata.optimizer ?? '',
    scheduler: metadata.scheduler ?? '{}',
    ...(metadata.tuning !== undefined ? { tuning: tuningOf(metadata.tuning, fileName) } : {}),
  };
  return { ...values, state1, state2, meta, shuffleRngState: rngState(meta.shuffleRng, fail), schedulerState: schedulerState(meta.scheduler, fail) };
}

function parseJson(text: string, what: string, fail: (problem: string) => DataFormatError): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw fail(`the ${what} in the metadata is unreadable: ${preview(text)} is not JSON (${(error as Error).message}).`);
  }
}

function rngState(text: string, fail: (problem: string) => DataFormatError): RngState {
  const value = parseJson(text, "shuffling generator's state ('shuffle_rng')", fail);
  const isWord = (w: unknown) => Number.isInteger(w) && (w as number) >= 0 && (w as number) <= 0xffffffff;
  if (!Array.isArray(value) || value.length !== 4 || !value.every(isWord) || value.every((w) => w === 0)) {
    throw fail(`the shuffling generator's state ('shuffle_rng') is ${preview(value)}, expected four u32 words, not all zero.`);
  }
  return value as unknown as RngState;
}

function schedulerState(text: string, fail: (problem: string) => DataFormatError): DecodedCheckpoint['schedulerState'] {
  const value = parseJson(text, "schedule's state ('scheduler')", fail);
  const expected = `expected {"scale": X > 0, "best": X or null, "badEpochs": N}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`the schedule's state ('scheduler') is ${preview(value)}, ${expected}.`);
  const { scale, best, badEpochs } = value as Record<string, unknown>;
  const ok =
    (scale === undefined || (typeof scale === 'number' && scale > 0 && Number.isFinite(scale))) &&
    (best === undefined || best === null || (typeof best === 'number' && Number.isFinite(best))) &&
    (badEpochs === undefined || (Number.isSafeInteger(badEpochs) && (badEpochs as number) >= 0));
  if (!ok) throw fail(`the schedule's state ('scheduler') is ${preview(value)}, ${expected}.`);
  return { scale: scale as number | undefined, best: best as number | null | undefined, badEpochs: badEpochs as number | undefined };
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
