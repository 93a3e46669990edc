/** A model and its arenas for checkpoint tests, and encode/decode bound to them. */
import { decodeCheckpoint, encodeCheckpoint, type CheckpointMeta } from '../../src/io/checkpoint';
import type { MlpConfig } from '../../src/nn/mlp';
import { toModel } from '../../src/nn/model_input';
import { ParameterArena } from '../../src/nn/parameters';

export function checkpointModel(config: MlpConfig) {
  const model = toModel(config, [config.layers[0]]);
  const arena = new ParameterArena(model.parameters);
  const stateArena = new ParameterArena(model.buffers);
  const arenas = { arena, stateArena };
  const blank = () => ({ params: new Float32Array(arena.totalFloats), state: new Float32Array(stateArena.totalFloats), batchesTracked: 0 });
  return {
    model,
    arena,
    stateArena,
    encode: (data: { params: Float32Array; state1: Float32Array; state2: Float32Array; meta: CheckpointMeta; state?: Float32Array }) =>
      encodeCheckpoint(model, arenas, { ...blank(), ...data }),
    decode: (bytes: Uint8Array, file: string) => decodeCheckpoint(bytes, file, model, arenas, blank()),
  };
}
