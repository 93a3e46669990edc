/**
 * Training checkpoints in the safetensors format. Parameters are stored under their PyTorch names and
 * layouts (fc1.weight [out, in], fc1.bias [out], bn1.running_mean ...), so
 *   state = safetensors.torch.load_file(path); model.load_state_dict({k: v for k, v in state.items()
 *           if not k.startswith('optimizer.')})
 * loads the weights into an equivalent torch.nn.Sequential of Linear layers. The optimizer's state is
 * stored per parameter as optimizer.state1.<name> / optimizer.state2.<name>, and everything else needed
 * to continue exactly (epoch, step, the shuffling generator's state, the schedule) in the metadata.
 */
import { DataFormatError, preview, ShapeError } from '../errors';
import type { RngState } from '../data/rng';
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
 * Reads a checkpoint into arena layout, checking every tensor against the model's parameters and every
 * metadata field, so that nothing past this point can fail on the file's contents: a caller may change
 * its state only after this returns. Every refusal is a DataFormatError (or a ShapeError for a tensor the
 * model does not match) whose message starts with the file name and says what is wrong.
 */
export function decodeCheckpoint(bytes: Uint8Array, fileName: string, arena: ParameterArena): DecodedCheckpoint {
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
  const arrays = { params: new Float32Array(arena.totalFloats), state1: new Float32Array(arena.totalFloats), state2: new Float32Array(arena.totalFloats) };
  for (const slot of arena.slots) {
    for (const [key, name] of [['params', slot.name], ['state1', `optimizer.state1.${slot.name}`], ['state2', `optimizer.state2.${slot.name}`]] as const) {
      const tensor = tensors.get(name);
      if (!tensor) throw new ShapeError(`${fileName}: the checkpoint has no tensor '${name}', which the model needs. Was it saved from a different model?`);
      if (tensor.dtype !== 'F32') throw fail(`tensor '${name}' is ${tensor.dtype}, expected F32.`);
      if (tensor.shape.join() !== slot.shape.join()) {
        throw new ShapeError(`${fileName}: tensor '${name}' has shape [${tensor.shape.join(', ')}] but the model's ${slot.name} is [${slot.shape.join(', ')}].`);
      }
      arrays[key].set(tensor.data, slot.offset);
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
  };
  return { ...arrays, meta, shuffleRngState: rngState(meta.shuffleRng, fail), schedulerState: schedulerState(meta.scheduler, fail) };
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
