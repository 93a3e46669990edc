// The kernels besides matmul, each against its float64 reference at sizes on and off the workgroup size.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { activationKinds } from '../../src/graph/ops';
import { grid1d } from '../../src/kernels/kernel';
import { expectClose, randomArray, runKernel } from '../helpers/gpu';
import { activateGradRef, activateRef, columnSumRef, softmaxXentRef } from '../helpers/reference';

const kinds = Object.keys(activationKinds) as (keyof typeof activationKinds)[];

describe('activation kernels', () => {
  for (const kind of kinds) {
    for (const n of [1, 3, 255, 257, 70001]) {
      it(`${kind} forward and backward, n=${n}`, async () => {
        const rng = new Rng(n + kind.length);
        const alpha = kind === 'elu' ? 1 : 0.1;
        const x = randomArray(n, rng, 4);
        const [y] = await runKernel('activationForward', { ACT: activationKinds[kind] }, [{ data: x }, { data: new Float32Array(4) }, { output: n }], { count: n, alpha }, grid1d(n, 256));
        expectClose(y, Float64Array.from(x, (v) => activateRef(v, kind, alpha)), 1e-5);
        const dy = randomArray(n, rng);
        const [dx] = await runKernel('activationBackward', { ACT: activationKinds[kind] }, [{ data: dy }, { data: y }, { output: n }], { count: n, alpha }, grid1d(n, 256));
        // The derivative is taken from the f32 output y, so compare against float64 at x with a looser bound.
        expectClose(dx, Float64Array.from(dy, (g, i) => g * activateGradRef(x[i], kind, alpha)), 1e-4);
      });
    }
  }
});

describe('fused softmax cross-entropy', () => {
  for (const [rows, classes] of [[1, 10], [3, 7], [128, 10], [257, 10], [1000, 10], [5, 1]] as const) {
    it(`rows=${rows} classes=${classes}`, async () => {
      const rng = new Rng(rows * 13 + classes);
      const logits = randomArray(rows * classes, rng, 5);
      const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
      const [dlogits, metrics] = await runKernel(
        'softmaxXent',
        { WRITE_GRAD: true },
        [{ data: logits }, { data: labels }, { output: rows * classes }, { output: 4, initial: new Float32Array([1, 2, 3, 0]) }],
        { rows, classes, grad_scale: 1 / rows },
        [1, 1, 1],
      );
      const ref = softmaxXentRef(logits, labels, rows, classes);
      expectClose(dlogits, ref.dlogits, 1e-5);
      // Accumulated onto what the buffer held.
      expect(Math.abs(metrics[0] - (1 + ref.lossSum)) / (1 + ref.lossSum)).toBeLessThan(1e-5);
      expect(metrics[1]).toBe(2 + ref.correct);
      expect(metrics[2]).toBe(3 + rows);
      expect(metrics[3]).toBe(0);
    });
  }

  it('stays finite for huge logits, skips dlogits in evaluation, and flags NaN', async () => {
    const logits = new Float32Array([1e4, -1e4, 0, 3, Number.NaN, 1]);
    const labels = new Uint32Array([1, 0]);
    const [dlogits, metrics] = await runKernel(
      'softmaxXent',
      { WRITE_GRAD: false },
      [{ data: logits }, { data: labels }, { output: 6 }, { output: 4, initial: new Float32Array(4) }],
      { rows: 2, classes: 3, grad_scale: 0.5 },
      [1, 1, 1],
    );
    expect([...dlogits].every(Number.isNaN)).toBe(true); // the poison survived: nothing written
    expect(metrics[3]).toBe(1);
    const [, finite] = await runKernel(
      'softmaxXent',
      { WRITE_GRAD: true },
      [{ data: new Float32Array([1e4, -1e4, 0]) }, { data: new Uint32Array([1]) }, { output: 3 }, { output: 4, initial: new Float32Array(4) }],
      { rows: 1, classes: 3, grad_scale: 1 },
      [1, 1, 1],
    );
    expect(finite[0]).toBeCloseTo(2e4, 0);
    expect(finite[3]).toBe(0);
  });
});

describe('column sum (bias gradient)', () => {
  for (const [rows, cols] of [[1, 1], [3, 5], [128, 10], [129, 65], [64, 257], [1000, 3]] as const) {
    it(`rows=${rows} cols=${cols}`, async () => {
      const rng = new Rng(rows + cols);
      const x = randomArray(rows * cols, rng);
      const [out] = await runKernel('columnSum', {}, [{ data: x }, { output: cols }], { rows, cols }, grid1d(cols, 64));
      expectClose(out, columnSumRef(x, rows, cols), 1e-5);
    });
  }
});

describe('gather', () => {
  const cases = [[1, 1, 1, false], [7, 3, 5, false], [13, 13, 7, false], [300, 129, 784, false], [50, 17, 3, false], [300, 129, 784, true], [9, 5, 8, true], [3, 3, 4, true], [65, 64, 12, true]] as const;
  for (const [count, rows, features, words] of cases) {
    it(`${rows} of ${count} samples, ${features} features${words ? ', a word per invocation' : ''}`, async () => {
      const rng = new Rng(count * features);
      const bytes = Uint8Array.from({ length: Math.ceil((count * features) / 4) * 4 }, () => rng.nextBelow(256));
      const labelBytes = Uint8Array.from({ length: Math.ceil(count / 4) * 4 }, () => rng.nextBelow(10));
      const perm = Uint32Array.from({ length: count }, () => rng.nextBelow(count));
      const start = count - rows;
      const [scale, shift] = [0.5 / 255, -0.25];
      const [x, y] = await runKernel(
        'gather',
        { WORDS: words },
        [
          { data: new Uint32Array(bytes.buffer) },
          { data: new Uint32Array(labelBytes.buffer) },
          { data: perm },
          { output: rows * features },
          { output: rows, dtype: 'u32' },
          { data: new Uint32Array([0, start, 0, 0]), uniform: true },
        ],
        { rows, features, scale, shift },
        grid1d(words ? (rows * features) / 4 : rows * features, 256),
      );
      const ref = new Float64Array(rows * features);
      for (let r = 0; r < rows; r++) {
        const sample = perm[start + r];
        expect(y[r]).toBe(labelBytes[sample]);
        for (let f = 0; f < features; f++) ref[r * features + f] = bytes[sample * features + f] * scale + shift;
      }
      expectClose(x, ref, 1e-6);
    });
  }
});

describe('grid1d', () => {
  it('folds counts past 65,535 workgroups into a second dimension that still covers every invocation', () => {
    expect(grid1d(1, 256)).toEqual([1, 1, 1]);
    expect(grid1d(65535 * 256, 256)).toEqual([65535, 1, 1]);
    const [x, y] = grid1d(65536 * 256 + 1, 256);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y * 256).toBeGreaterThanOrEqual(65536 * 256 + 1);
  });
});
