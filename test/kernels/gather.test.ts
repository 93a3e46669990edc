/**
 * The input stage's kernel against plain CPU references: gather builds a batch of inputs from bytes or
 * float32, split over up to four buffers, with one affine map or one per feature, and copies the batch's
 * labels or targets from the dataset's side table in the same dispatch. Outputs poisoned first.
 */
import { describe, expect, it } from 'vitest';
import { Rng, shuffledIndices } from '../../src/data/rng';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose } from '../helpers/compare';
import { runKernel, stepArg, type Arg } from '../helpers/gpu';
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
  float?: boolean;
  /** Samples per buffer (the dataset split over ceil(count / perChunk) buffers). */
  perChunk?: number;
  perFeature?: boolean;
}

// Odd feature counts (5, 7, 13, 3) put samples at every byte offset within a u32; 784 is MNIST; `start` > 0
// takes a later batch; chunks of 3 or 40 samples split the data over 2–4 buffers.
const cases: Case[] = [
  { count: 1, features: 1, rows: 1, start: 0, scale: 1 / 255, shift: 0 },
  { count: 5, features: 5, rows: 3, start: 2, scale: 1 / 255, shift: 0 },
  { count: 9, features: 7, rows: 4, start: 5, scale: 1 / 255, shift: -0.5 },
  { count: 33, features: 784, rows: 17, start: 9, scale: 1 / (255 * 0.3081), shift: -0.1307 / 0.3081 },
  { count: 101, features: 13, rows: 64, start: 37, scale: 2, shift: 1 },
  { count: 257, features: 3, rows: 257, start: 0, scale: 1, shift: 0 },
  { count: 10, features: 5, rows: 10, start: 0, scale: 1 / 255, shift: 0, perChunk: 3 },
  { count: 150, features: 12, rows: 64, start: 80, scale: 1 / 255, shift: 0, perChunk: 40, perFeature: true },
  { count: 9, features: 7, rows: 4, start: 5, scale: 1, shift: 0, float: true },
  { count: 100, features: 33, rows: 50, start: 25, scale: 1, shift: 0, float: true, perChunk: 30, perFeature: true },
];

/**
 * Runs `gather` on `values` (bytes or floats) as the lowering binds it; the side table holds the affine map
 * (when per feature) and then `rowValues` (rowWidth words a sample). Returns x and the gathered rows.
 */
async function gather(c: Case, values: Uint8Array | Float32Array, perm: Uint32Array, affine: Float32Array | undefined, words: boolean, rowValues: Uint32Array, rowWidth: number) {
  const perChunk = c.perChunk ?? c.count;
  const chunks: Arg[] = Array.from({ length: Math.ceil(c.count / perChunk) }, (_, k) => {
    const part = values.subarray(k * perChunk * c.features, Math.min(c.count, (k + 1) * perChunk) * c.features);
    return { data: part instanceof Float32Array ? new Uint32Array(part.slice().buffer) : packBytes(part) };
  });
  while (chunks.length < 4) chunks.push({ data: new Uint32Array(4) });
  const affineWords = affine ? affine.length : 0;
  const side = new Uint32Array(affineWords + rowValues.length);
  if (affine) side.set(new Uint32Array(affine.slice().buffer));
  side.set(rowValues, affineWords);
  const invocations = Math.max((c.rows * c.features) / (words ? 4 : 1), c.rows * rowWidth);
  const [x, rows] = await runKernel(
    'gather',
    { WORDS: words, FLOAT: !!c.float, PER_FEATURE: !!affine, CHUNKS: Math.ceil(c.count / perChunk) },
    [...chunks, { data: perm }, { data: side }, { output: c.rows * c.features }, { output: c.rows * rowWidth, dtype: 'u32' }, stepArg({ step: 12, batch_start: c.start, seed: 99 })],
    { rows: c.rows, features: c.features, scale: c.scale, shift: c.shift, samples_per_chunk: perChunk, rows_offset: affineWords, row_width: rowWidth },
    grid1d(invocations, 256),
  );
  return { x: x as Float32Array, rows: rows as Uint32Array };
}

describe('gather kernel: a batch of inputs from the GPU-resident dataset', () => {
  for (const c of cases) {
    for (const words of c.float || c.features % 4 ? [false] : [false, true]) {
      const name = `${c.float ? 'float' : 'bytes'}${words ? ' WORDS' : ''} count=${c.count} features=${c.features} rows=${c.rows} start=${c.start}` +
        `${c.perChunk ? ` in ${Math.ceil(c.count / c.perChunk)} buffers` : ''}${c.perFeature ? ' per-feature affine' : ` scale=${c.scale.toPrecision(3)} shift=${c.shift.toPrecision(3)}`}`;
      it(name, async () => {
        const rng = new Rng(c.count * 7 + c.features);
        const values = c.float ? Float32Array.from({ length: c.count * c.features }, () => rng.normal() * 3) : Uint8Array.from({ length: c.count * c.features }, () => rng.nextBelow(256));
        const perm = shuffledIndices(c.count, rng);
        const affine = c.perFeature ? Float32Array.from({ length: 2 * c.features }, (_, i) => (i < c.features ? 0.5 + rng.nextFloat() : rng.nextFloat() - 0.5)) : undefined;
        // Labels (any count of classes) for byte data, targets of 3 (as f32 bits) for float data.
        const rowWidth = c.float ? 3 : 1;
        const rowValues = c.float ? new Uint32Array(Float32Array.from({ length: c.count * 3 }, () => rng.normal()).buffer) : Uint32Array.from({ length: c.count }, () => rng.nextBelow(100000));
        const { x, rows } = await gather(c, values, perm, affine, words, rowValues, rowWidth);
        expect([...rows]).toEqual(Array.from({ length: c.rows * rowWidth }, (_, i) => rowValues[perm[c.start + Math.floor(i / rowWidth)] * rowWidth + (i % rowWidth)]));
        const expected = new Float64Array(c.rows * c.features);
        for (let r = 0; r < c.rows; r++) {
          const sample = perm[c.start + r];
          for (let f = 0; f < c.features; f++) {
            const [scale, shift] = affine ? [affine[f], affine[c.features + f]] : [c.scale, c.shift];
            expected[r * c.features + f] = values[sample * c.features + f] * scale + shift;
          }
        }
        const scale = affine ? 1.5 : c.scale;
        expectAllClose(x, expected, gatherTolerance(c.float ? (scale * 12) / 255 : scale, affine ? 0.5 : c.shift), 'x');
      });
    }
  }

  it('the identity permutation reproduces the dataset bytes exactly (scale 1, shift 0)', async () => {
    const c: Case = { count: 11, features: 5, rows: 11, start: 0, scale: 1, shift: 0 };
    const images = Uint8Array.from({ length: c.count * c.features }, (_, i) => (i * 37 + 250) % 256);
    const { x } = await gather({ ...c, start: 0 }, images, Uint32Array.from({ length: c.count }, (_, i) => i), undefined, false, new Uint32Array(c.count), 1);
    expect([...x]).toEqual([...images]);
  });
});

describe('gather: more label rows than input values', () => {
  it('a 2-feature dataset with targets of 7: the dispatch covers the rows too', async () => {
    const c: Case = { count: 20, features: 2, rows: 9, start: 4, scale: 1, shift: 0, float: true };
    const rng = new Rng(77);
    const values = Float32Array.from({ length: c.count * c.features }, () => rng.normal());
    const targets = Float32Array.from({ length: c.count * 7 }, () => rng.normal());
    const perm = shuffledIndices(c.count, rng);
    const { x, rows } = await gather(c, values, perm, undefined, false, new Uint32Array(targets.buffer), 7);
    expect([...new Float32Array(rows.buffer, rows.byteOffset, rows.length)]).toEqual(Array.from({ length: 63 }, (_, i) => targets[perm[4 + Math.floor(i / 7)] * 7 + (i % 7)]));
    expect([...x]).toEqual(Array.from({ length: 18 }, (_, i) => values[perm[4 + Math.floor(i / 2)] * 2 + (i % 2)]));
  });
});
