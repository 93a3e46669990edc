// Every way a checkpoint can be refused: each refusal is a typed error whose message starts with the file
// name and says what is wrong; nothing else (a SyntaxError from JSON.parse, a TypeError) escapes, and a
// refused file leaves the trainer as it was.
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, type CheckpointMeta } from '../../src/io/checkpoint';
import { encodeSafetensors, type NamedSafetensorsTensor } from '../../src/io/safetensors';
import { checkpointModel } from '../helpers/checkpoint';
import { DataFormatError, ShapeError, WebgradError } from '../../src/errors';
import { Trainer } from '../../src/train/trainer';
import { syntheticDataset } from '../helpers/synthetic';
import { testGpu } from '../helpers/gpu';

const subject = checkpointModel({ layers: [6, 5, 3] });
const { arena } = subject;
const goodMeta: CheckpointMeta = {
  epoch: 2,
  step: 17,
  seed: 5,
  shuffleRng: JSON.stringify([1, 2, 3, 4]),
  model: '{}',
  optimizer: '{}',
  scheduler: JSON.stringify({ scale: 0.5, best: null, badEpochs: 1 }),
};

function filled(seed: number): Float32Array {
  return Float32Array.from({ length: arena.totalFloats }, (_, i) => Math.sin(seed * 1000 + i));
}

/** A checkpoint built by hand, so single tensors and metadata fields can be broken. */
function checkpoint(options: { drop?: string; replace?: Record<string, Partial<NamedSafetensorsTensor>>; metadata?: Record<string, string | undefined> } = {}): Uint8Array {
  const tensors: NamedSafetensorsTensor[] = [];
  for (const slot of arena.slots) {
    for (const name of [slot.name, `optimizer.state1.${slot.name}`, `optimizer.state2.${slot.name}`]) {
      if (name === options.drop) continue;
      const data = new Float32Array(slot.size).fill(0.25);
      tensors.push({ name, dtype: 'F32', shape: slot.shape, data, ...options.replace?.[name] } as NamedSafetensorsTensor);
    }
  }
  const metadata: Record<string, string | undefined> = {
    format: 'pt',
    webgrad: CHECKPOINT_FORMAT,
    epoch: '2',
    step: '17',
    seed: '5',
    shuffle_rng: goodMeta.shuffleRng,
    model: '{}',
    optimizer: '{}',
    scheduler: goodMeta.scheduler,
    ...options.metadata,
  };
  const defined = Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return encodeSafetensors(tensors, defined);
}

function refusal(bytes: Uint8Array, file = 'run.safetensors'): WebgradError {
  try {
    subject.decode(bytes, file);
  } catch (error) {
    expect(error).toBeInstanceOf(WebgradError);
    expect((error as Error).message.startsWith(`${file}: `), (error as Error).message).toBe(true);
    return error as WebgradError;
  }
  throw new Error('the checkpoint was accepted');
}

describe('checkpoint refusals', () => {
  it('a good checkpoint decodes (the refusals below are not refusing everything)', () => {
    const params = filled(1);
    const bytes = subject.encode({ params, state1: filled(2), state2: filled(3), meta: goodMeta });
    const decoded = subject.decode(bytes, 'run.safetensors');
    for (const slot of arena.slots) expect(decoded.params.subarray(slot.offset, slot.offset + slot.size)).toEqual(params.subarray(slot.offset, slot.offset + slot.size));
    expect(decoded.meta).toMatchObject({ epoch: 2, step: 17, seed: 5 });
    expect(decoded.shuffleRngState).toEqual([1, 2, 3, 4]);
    expect(decoded.schedulerState).toEqual({ scale: 0.5, best: null, badEpochs: 1 });
    expect(() => subject.decode(checkpoint(), 'hand.safetensors')).not.toThrow();
  });

  it('not a webgrad file: text, a truncated file, a weights-only safetensors file', () => {
    const text = new TextEncoder().encode('{"layers": [784, 10]}\n');
    expect(refusal(text, 'notes.json').message).toMatch(/^notes\.json: not a webgrad checkpoint: .*not a safetensors file/);
    expect(refusal(new Uint8Array(3), 'tiny').message).toMatch(/^tiny: not a webgrad checkpoint: not a safetensors file: expected at least 8 bytes, found 3/);
    const good = checkpoint();
    expect(refusal(good.slice(0, good.length - 7)).message).toMatch(/not a webgrad checkpoint: truncated: expected \d+ bytes of tensor data, found \d+/);
    const weightsOnly = encodeSafetensors([{ name: '1.weight', dtype: 'F32', shape: [5, 6], data: new Float32Array(30) }], { format: 'pt', model: '{}' });
    const error = refusal(weightsOnly, 'weights.safetensors');
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toMatch(/not a webgrad checkpoint \(metadata 'webgrad' is undefined, expected 'webgrad-checkpoint-2'\); a weights-only file/);
    expect(refusal(checkpoint({ metadata: { webgrad: 'webgrad-checkpoint-0' } })).message).toMatch(/metadata 'webgrad' is "webgrad-checkpoint-0"/);
  });

  it('a missing tensor, a non-F32 tensor, a tensor of the wrong shape', () => {
    const missing = refusal(checkpoint({ drop: 'optimizer.state2.1.bias' }));
    expect(missing).toBeInstanceOf(ShapeError);
    expect(missing.message).toMatch(/no tensor 'optimizer\.state2\.1\.bias', which the optimizer needs/);
    const integer = refusal(checkpoint({ replace: { '3.bias': { dtype: 'I32', data: new Int32Array(3) } } }));
    expect(integer).toBeInstanceOf(DataFormatError);
    expect(integer.message).toMatch(/tensor '3\.bias' is I32, expected F32/);
    const shape = refusal(checkpoint({ replace: { '1.weight': { shape: [6, 5] } } }));
    expect(shape).toBeInstanceOf(ShapeError);
    expect(shape.message).toMatch(/size mismatch for 1\.weight: the file has \[6, 5\], the model needs \[5, 6\]/);
  });

  it.each([
    ['epoch', '1.5'],
    ['epoch', '-1'],
    ['epoch', ''],
    ['epoch', undefined],
    ['step', 'abc'],
    ['step', ' 3'],
    ['seed', '1e3'],
    ['step', '99999999999999999999'],
  ])('bad metadata: %s = %j', (key, value) => {
    const error = refusal(checkpoint({ metadata: { [key]: value } }));
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toContain(`metadata '${key}' is ${value === undefined ? 'undefined' : JSON.stringify(value)}, expected an integer in [0, `);
  });

  it.each([
    ['shuffle_rng', 'not json', /shuffling generator's state \('shuffle_rng'\) in the metadata is unreadable: "not json" is not JSON/],
    ['shuffle_rng', undefined, /'shuffle_rng'\) in the metadata is unreadable: "" is not JSON/],
    ['shuffle_rng', '[1,2,3]', /'shuffle_rng'\) is \[1,2,3\], expected four u32 words/],
    ['shuffle_rng', '[0,0,0,0]', /not all zero/],
    ['shuffle_rng', '[1,2,3,-1]', /expected four u32 words/],
    ['shuffle_rng', '[1,2,3,4294967296]', /expected four u32 words/],
    ['shuffle_rng', '{"0":1}', /expected four u32 words/],
    ['scheduler', '{', /schedule's state \('scheduler'\) in the metadata is unreadable/],
    ['scheduler', '[]', /schedule's state \('scheduler'\) is \[\], expected/],
    ['scheduler', '{"scale":-1}', /is \{"scale":-1\}, expected/],
    ['scheduler', '{"badEpochs":1.5}', /expected/],
    ['scheduler', '{"best":"low"}', /expected/],
  ])('unreadable run state: %s = %j', (key, value, says) => {
    const error = refusal(checkpoint({ metadata: { [key]: value } }));
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toMatch(says);
  });

  it('Trainer.restore refuses an unreadable generator state before changing anything', async () => {
    const { resources } = await testGpu();
    const data = syntheticDataset(40, 2, 3, 7, 3);
    const trainer = await Trainer.create(resources, data, undefined, { model: { layers: [6, 5, 3] }, batchSize: 8, autotune: false });
    try {
      const before = await trainer.weights();
      const bad = checkpoint({ metadata: { shuffle_rng: '[0,0,0,0]' } });
      expect(() => trainer.restore(bad, 'bad.safetensors')).toThrow(DataFormatError);
      expect(() => trainer.restore(bad, 'bad.safetensors')).toThrow(/^bad\.safetensors: the shuffling generator's state/);
      expect(trainer.epoch).toBe(0);
      const after = await trainer.weights();
      for (const [name, values] of before) expect(after.get(name), name).toEqual(values);
      trainer.restore(checkpoint(), 'good.safetensors');
      expect(trainer.epoch).toBe(2);
      expect((await trainer.weights()).get('1.bias')).toEqual(new Float32Array(5).fill(0.25));
    } finally {
      trainer.destroy();
    }
  });
});
