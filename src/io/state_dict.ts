/**
 * State dicts, the interchange format with PyTorch: tensors named as torch.nn.Sequential built from the
 * same layer list names them ('0.weight', '1.running_mean', '1.num_batches_tracked', '4.body.0.weight'),
 * in PyTorch's layouts (conv weight [out, in, kh, kw]), running statistics and counters included, so
 *   model.load_state_dict(safetensors.torch.load_file(path), strict=True)
 * succeeds. Loading is as strict the other way: a missing, unexpected or mis-shaped tensor is named.
 */
import { DataFormatError, ShapeError } from '../errors';
import type { Model } from '../nn/model';
import type { ParameterArena } from '../nn/parameters';
import type { NamedSafetensorsTensor, SafetensorsTensor } from './safetensors';

export interface StateValues {
  /** Parameter arena contents. */
  params: Float32Array;
  /** State arena contents (running statistics). */
  state: Float32Array;
  /** Training steps each batch norm has counted (num_batches_tracked). */
  batchesTracked: number;
}

interface Entry {
  name: string;
  shape: readonly number[];
  arena: 'params' | 'state' | 'counter';
  offset: number;
  size: number;
}

/** Every tensor of the model's state dict, where its values live. */
function entries(model: Model, arena: ParameterArena, stateArena: ParameterArena): Entry[] {
  const out: Entry[] = [];
  for (const layer of model.all()) {
    for (const p of layer.params) out.push({ name: p.fullName, shape: p.shape, arena: 'params', ...slotOf(arena, p.fullName) });
    for (const b of layer.buffers) out.push({ name: b.fullName, shape: b.shape, arena: 'state', ...slotOf(stateArena, b.fullName) });
    for (const c of layer.kind.counters?.(layer.args) ?? []) out.push({ name: `${layer.path}.${c}`, shape: [], arena: 'counter', offset: 0, size: 1 });
  }
  return out;
}

const slotOf = (arena: ParameterArena, name: string) => {
  const slot = arena.slot(name);
  return { offset: slot.offset, size: slot.size };
};

/** The state dict as safetensors tensors (F32, and I64 scalars for the counters). */
export function stateDictTensors(model: Model, arena: ParameterArena, stateArena: ParameterArena, values: StateValues): NamedSafetensorsTensor[] {
  return entries(model, arena, stateArena).map((e): NamedSafetensorsTensor => {
    if (e.arena === 'counter') return { name: e.name, dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(values.batchesTracked)) };
    const source = e.arena === 'params' ? values.params : values.state;
    return { name: e.name, dtype: 'F32', shape: e.shape, data: source.slice(e.offset, e.offset + e.size) };
  });
}

export interface ReadOptions {
  /** Tensors under these prefixes are not part of the state dict (a checkpoint's optimizer state). */
  ignorePrefixes?: readonly string[];
  /** Parameters to leave at their current values (a new output layer): neither required nor loaded. */
  skip?: ReadonlySet<string>;
}

/**
 * Reads a state dict into arena layout over `initial` values, strictly: every tensor the model has must be
 * there with its shape, and nothing else may be. Throws one ShapeError listing every problem.
 */
export function readStateDict(
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  file: string,
  model: Model,
  arena: ParameterArena,
  stateArena: ParameterArena,
  initial: StateValues,
  options: ReadOptions = {},
): StateValues {
  const out: StateValues = { params: initial.params.slice(), state: initial.state.slice(), batchesTracked: initial.batchesTracked };
  const expected = entries(model, arena, stateArena).filter((e) => !options.skip?.has(e.name));
  const known = new Set(entries(model, arena, stateArena).map((e) => e.name));
  const ignored = (name: string) => (options.ignorePrefixes ?? []).some((p) => name.startsWith(p)) || options.skip?.has(name);
  const missing: string[] = [];
  const mismatched: string[] = [];
  const counters: number[] = [];
  for (const e of expected) {
    const t = tensors.get(e.name);
    if (!t) {
      missing.push(e.name);
      continue;
    }
    if (t.shape.join() !== e.shape.join()) {
      mismatched.push(`${e.name}: the file has [${t.shape.join(', ')}], the model needs [${e.shape.join(', ')}]`);
      continue;
    }
    if (e.arena === 'counter') {
      if (t.dtype !== 'I64' && t.dtype !== 'I32') throw new DataFormatError(`${file}: tensor '${e.name}' is ${t.dtype}, expected I64 (a counter).`);
      counters.push(Number(t.data[0]));
      continue;
    }
    if (t.dtype !== 'F32') throw new DataFormatError(`${file}: tensor '${e.name}' is ${t.dtype}, expected F32.`);
    (e.arena === 'params' ? out.params : out.state).set(t.data as Float32Array, e.offset);
  }
  const unexpected = [...tensors.keys()].filter((name) => !known.has(name) && !ignored(name));
  if (missing.length || unexpected.length || mismatched.length) {
    const parts = [
      missing.length && `missing ${missing.map((n) => `'${n}'`).join(', ')}`,
      unexpected.length && `unexpected ${unexpected.map((n) => `'${n}'`).join(', ')}`,
      mismatched.length && `size mismatch for ${mismatched.join('; ')}`,
    ].filter(Boolean);
    throw new ShapeError(`${file}: the tensors do not fit the model: ${parts.join("; ")}. Was it saved from a different layer list?`);
  }
  if (counters.length) out.batchesTracked = Math.max(...counters);
  return out;
}
