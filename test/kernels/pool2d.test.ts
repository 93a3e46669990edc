// MaxPool2d and AvgPool2d (floor mode, count_include_pad, −∞ padding for max), forward and backward: the
// float64 references (backward by scattering each dy into its window: the kernels gather instead) against
// central finite differences, then the GPU, run as the planner lowers each op, outputs poisoned, against
// them. Windows: 2×2 s2, overlapping 3×3 s2, padding, stride 1, a stride larger than the kernel (inputs no
// window covers get 0), non-square windows, odd planes, batch 1, the MNIST CNN's [128,16,28,28] and
// [128,32,10,10]. Ties in max pooling: the first maximum in row-major order, as PyTorch.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { ShapeError } from '../../src/errors';
import { Graph, type Attrs, type Tensor } from '../../src/graph/graph';
import { expectAllClose } from '../helpers/compare';
import { randomArray, type HostArray } from '../helpers/gpu';
import { avgPoolBackwardRef, avgPoolRef, maxPoolBackwardRef, maxPoolRef, pooledSize, type PoolWindow } from '../helpers/norm_pool_reference';
import { numericGrad, type Vec } from '../helpers/reference';
import { runNode } from '../helpers/run_node';
import { poolTolerance } from '../tolerances';

const dot = (a: Vec, b: Vec) => Array.from({ length: a.length }, (_, i) => a[i] * b[i]).reduce((s, v) => s + v, 0);

interface Case {
  shape: [number, number, number, number];
  window: PoolWindow;
}

const win = (kernelH: number, strideH = kernelH, padH = 0, kernelW = kernelH, strideW = strideH, padW = padH): PoolWindow => ({ kernelH, kernelW, strideH, strideW, padH, padW });

const cases: Case[] = [
  { shape: [2, 3, 8, 8], window: win(2) },
  { shape: [1, 17, 9, 9], window: win(3, 2) }, // overlapping windows
  { shape: [2, 3, 7, 5], window: win(3, 2, 1) }, // overlapping, padded, odd planes
  { shape: [3, 2, 6, 6], window: win(3, 1, 1) }, // stride 1: up to 9 windows per input
  { shape: [2, 2, 11, 10], window: win(2, 3) }, // stride > kernel: some inputs in no window
  { shape: [1, 3, 9, 8], window: win(3, 2, 1, 2, 1, 0) }, // non-square
  { shape: [2, 1, 1, 1], window: win(1) },
  { shape: [128, 16, 28, 28], window: win(2) },
  { shape: [128, 32, 10, 10], window: win(2) },
];

const attrsOf = (w: PoolWindow): Attrs => ({ kernelH: w.kernelH, kernelW: w.kernelW, strideH: w.strideH, strideW: w.strideW, padH: w.padH, padW: w.padW });

describe('float64 references vs finite differences', () => {
  for (const { shape, window } of cases.slice(0, 6)) {
    const [n, c, h, w] = shape;
    const planes = n * c;
    it(`[${shape}] k ${window.kernelH}×${window.kernelW} s ${window.strideH},${window.strideW} p ${window.padH},${window.padW}: max and average pooling`, () => {
      const rng = new Rng(h * w);
      // Distinct values (a shuffled ramp): no ties, and every max is isolated by far more than h.
      const x = Float64Array.from({ length: planes * h * w }, (_, i) => i * 0.01);
      for (let i = x.length - 1; i > 0; i--) {
        const j = rng.nextBelow(i + 1);
        [x[i], x[j]] = [x[j], x[i]];
      }
      const max = maxPoolRef(x, planes, h, w, window);
      const dy = Float64Array.from(randomArray(max.y.length, rng));
      const fd = { atol: 1e-7, rtol: 1e-6 };
      expectAllClose(
        maxPoolBackwardRef(dy, max.indices, planes, h, w, max.outH, max.outW),
        numericGrad((v) => dot(dy, maxPoolRef(v, planes, h, w, window).y), x),
        fd,
        'max dx',
      );
      expectAllClose(avgPoolBackwardRef(dy, planes, h, w, window), numericGrad((v) => dot(dy, avgPoolRef(v, planes, h, w, window).y), x), fd, 'avg dx');
    });
  }
});

describe('pooling kernels, as lowered', () => {
  for (const { shape, window } of cases) {
    const [n, c, h, w] = shape;
    const planes = n * c;
    it(`[${shape}] k ${window.kernelH}×${window.kernelW} s ${window.strideH},${window.strideW} p ${window.padH},${window.padW}: forward and backward`, async () => {
      const rng = new Rng(planes + h * 100 + window.kernelH);
      const x = randomArray(planes * h * w, rng);
      const g = new Graph();
      const xt = g.tensor(shape, 'activation', 'x');
      const [ymax, indices] = g.add('max_pool2d', [xt], attrsOf(window));
      const [yavg] = g.add('avg_pool2d', [xt], attrsOf(window));
      const outH = pooledSize(h, window.kernelH, window.strideH, window.padH);
      const outW = pooledSize(w, window.kernelW, window.strideW, window.padW);
      expect(ymax.shape).toEqual([n, c, outH, outW]);
      expect(indices.dtype).toBe('u32');

      const max = await runNode(g.nodes[0], new Map([[xt, x]]));
      const maxRef = maxPoolRef(x, planes, h, w, window);
      // Max pooling copies values: exact, and the same argmax (the first in row-major order).
      expect([...max.written.get(ymax)!]).toEqual([...Float32Array.from(maxRef.y)]);
      expect([...max.written.get(indices)!]).toEqual([...maxRef.indices]);
      const avg = await runNode(g.nodes[1], new Map([[xt, x]]));
      expectAllClose(avg.written.get(yavg)!, avgPoolRef(x, planes, h, w, window).y, poolTolerance(window.kernelH, window.kernelW), 'avg y');

      const dy = randomArray(ymax.size, rng);
      const dyt = g.tensor(ymax.shape, 'activation', 'dy');
      const gradAttrs = { ...attrsOf(window), inputH: h, inputW: w };
      const [dxMax] = g.add('max_pool2d_grad', [dyt, indices], gradAttrs);
      const [dxAvg] = g.add('avg_pool2d_grad', [dyt], gradAttrs);
      const maxGrad = await runNode(g.nodes[2], new Map<Tensor, HostArray>([[dyt, dy], [indices, max.written.get(indices)!]]));
      expectAllClose(maxGrad.written.get(dxMax)!, maxPoolBackwardRef(dy, maxRef.indices, planes, h, w, outH, outW), poolTolerance(window.kernelH, window.kernelW), 'max dx');
      const avgGrad = await runNode(g.nodes[3], new Map<Tensor, HostArray>([[dyt, dy]]));
      expectAllClose(avgGrad.written.get(dxAvg)!, avgPoolBackwardRef(dy, planes, h, w, window), poolTolerance(window.kernelH, window.kernelW), 'avg dx');
    });
  }

  it('max pooling ties: the first maximum in row-major order wins, and gets the whole gradient', async () => {
    const g = new Graph();
    const xt = g.tensor([1, 1, 4, 4], 'activation', 'x');
    const [y, indices] = g.add('max_pool2d', [xt], { kernel: 2 });
    const x = new Float32Array([1, 5, 5, 0, 5, 5, 2, 2, 0, 0, 3, 3, 0, 0, 3, 3]);
    const run = await runNode(g.nodes[0], new Map([[xt, x]]));
    expect([...run.written.get(indices)!]).toEqual([1, 2, 8, 10]);
    const dyt = g.tensor(y.shape, 'activation', 'dy');
    const [dx] = g.add('max_pool2d_grad', [dyt, indices], { kernel: 2, inputH: 4, inputW: 4 });
    const grad = await runNode(g.nodes[1], new Map<Tensor, HostArray>([[dyt, new Float32Array([1, 2, 3, 4])], [indices, run.written.get(indices)!]]));
    expect([...grad.written.get(dx)!]).toEqual([0, 1, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0]);
  });
});

describe('pooling shape rules', () => {
  it('name the op and the shapes; refuse padding over half the kernel and windows that do not fit', () => {
    const g = new Graph();
    const x = g.tensor([2, 3, 5, 5], 'activation', 'x');
    expect(() => g.add('max_pool2d', [x], { kernel: 3, padding: 2 })).toThrow(ShapeError);
    expect(() => g.add('max_pool2d', [x], { kernel: 3, padding: 2 })).toThrow(/max_pool2d: padding \(2, 2\) must be at most half the kernel \(3, 3\)/);
    expect(() => g.add('avg_pool2d', [x], { kernel: 6 })).toThrow(/avg_pool2d: a 6×6 window .* 5×5 planes of x \[2, 3, 5, 5\]/);
    expect(() => g.add('avg_pool2d', [g.tensor([6, 5], 'activation', 'flat')], { kernel: 2 })).toThrow(/flat \[6, 5\] must be \[N, C, H, W\]/);
    expect(() => g.add('max_pool2d', [x], {})).toThrow(/kernelH must be an integer/);
    const [y] = g.add('avg_pool2d', [x], { kernel: 2 });
    expect(y.shape).toEqual([2, 3, 2, 2]);
    expect(() => g.add('avg_pool2d_grad', [y], { kernel: 2, inputH: 7, inputW: 7 })).toThrow(/avg_pool2d_grad: .* must have 3×3 planes/);
  });
});
