/** Checkpoint metadata: the tuning table a run used travels with it, and a damaged one is refused. */
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import type { CheckpointMeta } from '../../src/io/checkpoint';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { checkpointModel } from '../helpers/checkpoint';

const subject = checkpointModel({ layers: [2, 3] });
const { arena } = subject;
const encodeCheckpoint = (_: unknown, d: ReturnType<typeof data>) => subject.encode(d);
const decodeCheckpoint = (bytes: Uint8Array, file: string, _?: unknown) => subject.decode(bytes, file);

function data(tuning?: Record<string, string>): { params: Float32Array; state1: Float32Array; state2: Float32Array; meta: CheckpointMeta } {
  const floats = () => Float32Array.from({ length: arena.totalFloats }, (_, i) => i / 7);
  return {
    params: floats(),
    state1: floats(),
    state2: floats(),
    meta: { epoch: 2, step: 30, seed: 1, shuffleRng: '[1,2,3,4]', model: '{}', optimizer: '{}', scheduler: '{}', ...(tuning ? { tuning } : {}) },
  };
}

describe('checkpoint tuning table', () => {
  const table = { '128x128x784|TRANS_A=0,TRANS_B=1,BIAS=1,ACT=1,ACT_GRAD=0|align=1111': 'matmulTiled+TILE_M=64+SPLIT_K=4@16x16' };

  it('round-trips the table the run used', () => {
    const decoded = decodeCheckpoint(encodeCheckpoint(arena, data(table)), 'run.safetensors', arena);
    expect(decoded.meta.tuning).toEqual(table);
    const slot = arena.slots[1];
    expect(decoded.params.slice(slot.offset, slot.offset + slot.size)).toEqual(data().params.slice(slot.offset, slot.offset + slot.size));
  });

  it('a checkpoint without one (older files) decodes with no table', () => {
    expect(decodeCheckpoint(encodeCheckpoint(arena, data()), 'old.safetensors', arena).meta.tuning).toBeUndefined();
  });

  it('refuses a tuning entry that is not a JSON object of variant ids, naming the file', () => {
    for (const bad of ['{not json', '[1, 2]', '{"key": 3}']) {
      const { tensors, metadata } = decodeSafetensors(encodeCheckpoint(arena, data(table)), 'x');
      const bytes = encodeSafetensors([...tensors.entries()].map(([name, t]) => ({ name, ...t })), { ...metadata, tuning: bad });
      expect(() => decodeCheckpoint(bytes, 'bad.safetensors', arena), bad).toThrow(DataFormatError);
      expect(() => decodeCheckpoint(bytes, 'bad.safetensors', arena), bad).toThrow(/bad\.safetensors.*tuning/);
    }
  });
});
