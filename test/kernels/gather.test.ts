import { describe, expect, it } from 'vitest';
import { Rng, shuffledIndices } from '../../src/data/rng';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose } from '../helpers/compare';
import { runKernel, stepArg } from '../helpers/gpu';
import { gatherTolerance } from '../tolerances';

/** Bytes packed four to a u32, little-endian, zero-padded: the layout GpuDataset uploads. */
function packBytes(bytes: Uint8Array): Uint32Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4 || 4);
  padded.set(bytes);
  return new Uint32Array(padded.buffer);
}

interface Case {
  count: number;
  features: number;
  rows: number;
  start: number;
  scale: number;
  shift: number;
}

// Odd feature counts (5, 7, 13, 3) put samples at every byte offset within a u32; 784 is MNIST; odd
// sample counts make the packed label array end in a partial word; `start` > 0 takes a later batch.
const cases: Case[] = [
  { count: 1, features: 1, rows: 1, start: 0, scale: 1 / 255, shift: 0 },
  { count: 5, features: 5, rows: 3, start: 2, scale: 1 / 255, shift: 0 },
  { count: 9, features: 7, rows: 4, start: 5, scale: 1 / 255, shift: -0.5 },
  { count: 33, features: 784, rows: 17, start: 9, scale: 1 / (255 * 0.3081), shift: -0.1307 / 0.3081 },
  { count: 101, features: 13, rows: 64, start: 37, scale: 2, shift: 1 },
  { count: 257, features: 3, rows: 257, start: 0, scale: 1, shift: 0 },
];

// WORDS=true (chosen by lower() when features % 4 == 0): one invocation per packed u32 word.
const wordCases: Case[] = [
  { count: 1, features: 4, rows: 1, start: 0, scale: 1 / 255, shift: 0 },
  { count: 7, features: 8, rows: 5, start: 2, scale: 1 / 255, shift: -0.5 },
  { count: 33, features: 784, rows: 17, start: 9, scale: 1 / (255 * 0.3081), shift: -0.1307 / 0.3081 },
  { count: 101, features: 12, rows: 64, start: 37, scale: 2, shift: 1 },
  { count: 300, features: 4, rows: 300, start: 0, scale: 1, shift: 0 },
];

describe('gather kernel: a batch from the GPU-resident byte dataset', () => {
  for (const [words, c] of [...cases.map((c) => [false, c] as const), ...wordCases.map((c) => [true, c] as const)]) {
    it(`${words ? 'WORDS ' : ''}count=${c.count} features=${c.features} rows=${c.rows} batch_start=${c.start} scale=${c.scale.toPrecision(3)} shift=${c.shift.toPrecision(3)}`, async () => {
      const rng = new Rng(c.count * 7 + c.features);
      const images = Uint8Array.from({ length: c.count * c.features }, () => rng.nextBelow(256));
      const labels = Uint8Array.from({ length: c.count }, () => rng.nextBelow(10));
      const perm = shuffledIndices(c.count, rng);
      const step = stepArg({ step: 12, batch_start: c.start, seed: 99, mix_lambda: 1, lr: 0 }).data;
      const [x, y] = await runKernel(
        'gather',
        { WORDS: words },
        [{ data: packBytes(images) }, { data: packBytes(labels) }, { data: perm }, { output: c.rows * c.features }, { output: c.rows, dtype: 'u32' }, { data: step, uniform: true }],
        { rows: c.rows, features: c.features, scale: c.scale, shift: c.shift },
        grid1d((c.rows * c.features) / (words ? 4 : 1), 256),
      );
      const expectedX = new Float64Array(c.rows * c.features);
      const expectedLabels: number[] = [];
      for (let r = 0; r < c.rows; r++) {
        const sample = perm[c.start + r];
        expectedLabels.push(labels[sample]);
        for (let f = 0; f < c.features; f++) expectedX[r * c.features + f] = images[sample * c.features + f] * c.scale + c.shift;
      }
      expectAllClose(x, expectedX, gatherTolerance(c.scale, c.shift), 'x');
      expect([...y]).toEqual(expectedLabels);
    });
  }

  it('the identity permutation reproduces the dataset bytes exactly (scale 1, shift 0)', async () => {
    const [count, features] = [11, 5];
    const images = Uint8Array.from({ length: count * features }, (_, i) => (i * 37 + 250) % 256);
    const labels = Uint8Array.from({ length: count }, (_, i) => (i * 3) % 10);
    const perm = Uint32Array.from({ length: count }, (_, i) => i);
    const [x, y] = await runKernel(
      'gather',
      {},
      [{ data: packBytes(images) }, { data: packBytes(labels) }, { data: perm }, { output: count * features }, { output: count, dtype: 'u32' }, stepArg({ step: 0, batch_start: 0, seed: 0, mix_lambda: 1, lr: 0 })],
      { rows: count, features, scale: 1, shift: 0 },
      grid1d(count * features, 256),
    );
    expect([...x]).toEqual([...images]);
    expect([...y]).toEqual([...labels]);
  });
});
