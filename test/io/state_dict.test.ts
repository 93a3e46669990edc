/**
 * State dicts against real PyTorch: test/fixtures/torch_state_dicts.json was recorded by
 * python/record_fixtures.py from torch.nn modules built from the same layer lists (keys, shapes, dtypes in
 * state_dict() order). webgrad's state dict of each list must be exactly that, so load_state_dict(strict=True)
 * accepts it; and loading is as strict here, naming what is missing, unexpected or mis-shaped.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { readStateDict, stateDictTensors } from '../../src/io/state_dict';
import { Model, type LayerSpec } from '../../src/nn/model';
import { ParameterArena } from '../../src/nn/parameters';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch_state_dicts.json', import.meta.url), 'utf8')) as {
  torch: string;
  models: Record<string, { layers: LayerSpec[]; state_dict: { name: string; shape: number[]; dtype: string }[] }>;
};

function stateOf(layers: LayerSpec[]) {
  const model = Model.create(layers, [1, 28, 28]);
  const arena = new ParameterArena(model.parameters);
  const stateArena = new ParameterArena(model.buffers);
  const params = model.initialParameters(arena, 1, () => {});
  const state = model.initialBuffers(stateArena);
  return { model, arena, stateArena, values: { params, state, batchesTracked: 7 } };
}

describe(`state dicts match torch.nn (fixture from torch ${fixture.torch})`, () => {
  for (const [name, { layers, state_dict }] of Object.entries(fixture.models)) {
    it(`${name}: the same keys in the same order, shapes and dtypes`, () => {
      const { model, arena, stateArena, values } = stateOf(layers);
      const ours = stateDictTensors(model, arena, stateArena, values).map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype }));
      expect(ours).toEqual(state_dict);
    });

    it(`${name}: saved and loaded back strictly, values intact`, () => {
      const { model, arena, stateArena, values } = stateOf(layers);
      const bytes = encodeSafetensors(stateDictTensors(model, arena, stateArena, values));
      const { tensors } = decodeSafetensors(bytes, 'model.safetensors');
      const blank = { params: new Float32Array(arena.totalFloats), state: new Float32Array(stateArena.totalFloats), batchesTracked: 0 };
      const back = readStateDict(tensors, 'model.safetensors', model, arena, stateArena, blank);
      expect(back.params).toEqual(values.params);
      expect(back.state).toEqual(values.state);
      expect(back.batchesTracked).toBe(model.counters.length ? 7 : 0);
    });
  }

  it('a missing, an unexpected and a mis-shaped tensor are all named in one ShapeError', () => {
    const { model, arena, stateArena, values } = stateOf(fixture.models.cnn.layers);
    const tensors = new Map(stateDictTensors(model, arena, stateArena, values).map(({ name, ...t }) => [name, t]));
    tensors.delete('0.bias');
    tensors.set('extra.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    tensors.set('8.weight', { dtype: 'F32', shape: [128, 799], data: new Float32Array(128 * 799) });
    const read = () => readStateDict(tensors as never, 'cnn.safetensors', model, arena, stateArena, values);
    expect(read).toThrow(ShapeError);
    expect(read).toThrow(/cnn\.safetensors.*missing '0\.bias'.*unexpected 'extra\.weight'.*size mismatch for 8\.weight: the file has \[128, 799\], the model needs \[128, 800\]/);
  });

  it('optimizer state and skipped (new-head) tensors are ignored when asked', () => {
    const { model, arena, stateArena, values } = stateOf(fixture.models.mlp_batchnorm_dropout.layers);
    const tensors = new Map(stateDictTensors(model, arena, stateArena, values).map(({ name, ...t }) => [name, t]));
    tensors.set('optimizer.state1.1.weight', { dtype: 'F32', shape: [32, 784], data: new Float32Array(32 * 784) });
    tensors.delete('5.weight');
    tensors.delete('5.bias');
    const back = readStateDict(tensors as never, 'f', model, arena, stateArena, values, { ignorePrefixes: ['optimizer.'], skip: new Set(['5.weight', '5.bias']) });
    expect(back.params).toEqual(values.params);
  });
});
