/**
 * The kernels of a convolution run as a matmul (src/graph/ops_im2col.ts) against float64 references, with
 * outputs poisoned (NaN) first: im2col (a copy: exact), col2im (sums of ≤ KH·KW terms: sumTolerance, and
 * with an activation-gradient epilogue), channels_first with an activation and channels_last with an
 * activation gradient (a copy with one elementwise function: ACTIVATION / activationGradTolerance). Params
 * and workgroup counts come from the lowering (src/kernels/lower_conv.ts), as in a plan.
 */
import { describe, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { Graph } from '../../src/graph/graph';
import type { ActivationName } from '../../src/graph/ops';
import { convTaps, type ConvGeometry } from '../../src/graph/ops_conv';
import { lowerConv } from '../../src/kernels/lower_conv';
import type { KernelName } from '../../src/kernels/catalog';
import { expectAllClose, maxAbs } from '../helpers/compare';
import { col2imRef, geometry, im2colRef } from '../helpers/conv_reference';
import { randomArray, runKernel, type HostArray } from '../helpers/gpu';
import { activateGradRef, activateRef, savedForGrad } from '../helpers/reference';
import { ACTIVATION, activationGradTolerance, plus, sumTolerance, uniformRms } from '../tolerances';

interface Case {
  name: string;
  input: [number, number, number, number];
  kernel: [number, number];
  hyper?: { strideH?: number; strideW?: number; padH?: number; padW?: number };
}

// Odd sizes, channel counts off every workgroup size, batch 1, stride 2 and asymmetric strides, padding,
// 1×1 windows, a window wider than the unpadded input, MNIST's conv2 at batch 128 (the large case).
const cases: Case[] = [
  { name: 'batch 1, 3 channels, 7×9, k3 pad 1', input: [1, 3, 7, 9], kernel: [3, 3], hyper: { padH: 1, padW: 1 } },
  { name: '5 channels, 11×10, k3 stride 2 pad 1', input: [2, 5, 11, 10], kernel: [3, 3], hyper: { strideH: 2, strideW: 2, padH: 1, padW: 1 } },
  { name: '17 channels, 6×7, 1×1', input: [3, 17, 6, 7], kernel: [1, 1] },
  { name: '33 channels, 9×8, 1×1 stride 2', input: [2, 33, 9, 8], kernel: [1, 1], hyper: { strideH: 2, strideW: 2 } },
  { name: '3 channels, 5×6, k3×2, strides 2×1, pads 0×1', input: [4, 3, 5, 6], kernel: [3, 2], hyper: { strideH: 2, padW: 1 } },
  { name: '2 channels, 3×3, k5 pad 2 (window wider than the input)', input: [2, 2, 3, 3], kernel: [5, 5], hyper: { padH: 2, padW: 2 } },
  { name: 'large: MNIST conv2, 128 × 16 channels, 14×14, k5', input: [128, 16, 14, 14], kernel: [5, 5] },
];

const dummy = () => ({ data: new Float32Array(4) });
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs the dispatch lowering makes for `op` on a graph of these shapes, with the given inputs. */
async function runOp(op: 'im2col' | 'col2im' | 'channels_first' | 'channels_last', inputShapes: number[][], attrs: Record<string, unknown>, data: HostArray[]): Promise<Float32Array> {
  const graph = new Graph();
  const inputs = inputShapes.map((shape, i) => graph.tensor(shape, 'activation', `in${i}`));
  const [out] = graph.add(op, inputs, attrs as never);
  const d = lowerConv(graph.nodes[0])!;
  // Bound as the lowering binds them: its inputs, dummies and output, in its operand order.
  const args = d.operands.map((o) => ('tensor' in o ? (o.tensor === out ? { output: out.size } : { data: data[inputs.indexOf(o.tensor)] }) : dummy()));
  const [result] = await runKernel(d.kernel as KernelName, d.constants, args, d.params, d.workgroups);
  return result as Float32Array;
}

const windowAttrs = (c: Case) => ({ kernelH: c.kernel[0], kernelW: c.kernel[1], ...c.hyper });
const geometryOf = (c: Case): ConvGeometry => geometry(c.input, [1, c.input[1], ...c.kernel], c.hyper);
const actKinds: ActivationName[] = ['relu', 'tanh', 'gelu', 'silu', 'leaky_relu'];

describe('im2col vs float64 (a copy: exact)', () => {
  for (const [index, c] of cases.entries()) {
    it(c.name, async () => {
      const g = geometryOf(c);
      const x = randomArray(sizeOf(c.input), new Rng(index + 1));
      const cols = await runOp('im2col', [c.input], windowAttrs(c), [x]);
      expectAllClose(cols, im2colRef(x, g), { atol: 0, rtol: 0 }, 'cols');
    });
  }
});

describe('col2im vs float64', () => {
  for (const [index, c] of cases.entries()) {
    it(c.name, async () => {
      const g = geometryOf(c);
      const rows = g.batch * g.outH * g.outW;
      const dcols = randomArray(rows * convTaps(g), new Rng(index + 20));
      const attrs = { ...windowAttrs(c), inChannels: g.inChannels, inputH: g.inH, inputW: g.inW };
      const dx = await runOp('col2im', [[rows, convTaps(g)]], attrs, [dcols]);
      expectAllClose(dx, col2imRef(dcols, g), sumTolerance(g.kernelH * g.kernelW, uniformRms(1)), 'dx');
    });
  }

  it(`with the activation-gradient epilogue (${actKinds.join(', ')})`, async () => {
    for (const c of [cases[0], cases[1], cases[4]]) {
      const g = geometryOf(c);
      const rows = g.batch * g.outH * g.outW;
      const rng = new Rng(55);
      const dcols = randomArray(rows * convTaps(g), rng);
      const pre = randomArray(sizeOf(c.input), rng, 3);
      const ref = col2imRef(dcols, g);
      for (const kind of actKinds) {
        const alpha = kind === 'leaky_relu' ? 0.2 : 0;
        const attrs = { ...windowAttrs(c), inChannels: g.inChannels, inputH: g.inH, inputW: g.inW, actGrad: kind, alpha };
        const v = savedForGrad(pre, kind, alpha);
        const dx = await runOp('col2im', [[rows, convTaps(g)], c.input], attrs, [dcols, v]);
        // The sum's error (≤ KH·KW terms), then activate'(v) taken from the f32 v, scaled by the largest |sum|.
        const tol = plus(sumTolerance(g.kernelH * g.kernelW, uniformRms(1)), activationGradTolerance(maxAbs(ref)));
        expectAllClose(dx, ref.map((d, i) => d * activateGradRef(pre[i], kind, alpha)), tol, `dx·${kind}' (${c.name})`);
      }
    }
  });
});

describe('channels_first and channels_last vs float64', () => {
  // [N, C, H, W]: batch 1, odd channel counts and planes, 1×1 planes, MNIST conv2's output at batch 128.
  const shapes = [[1, 3, 5, 7], [2, 17, 3, 3], [5, 33, 1, 1], [3, 4, 9, 2], [128, 32, 10, 10]];
  for (const shape of shapes) {
    const [n, c, h, w] = shape;
    const s = h * w;
    const rowsRef = (x: ArrayLike<number>) => Float64Array.from({ length: x.length }, (_, i) => x[((Math.floor(i / c / s) * c + (i % c)) * s) + (Math.floor(i / c) % s)]);
    const nchwRef = (rows: ArrayLike<number>) => Float64Array.from({ length: rows.length }, (_, i) => rows[(Math.floor(i / (c * s)) * s + (i % s)) * c + (Math.floor(i / s) % c)]);

    it(`[${shape.join(', ')}]: both directions, then with an activation and its gradient`, async () => {
      const rng = new Rng(n + c + h + w);
      const x = randomArray(n * c * s, rng, 3);
      const rows = await runOp('channels_last', [shape], {}, [x]);
      expectAllClose(rows, rowsRef(x), { atol: 0, rtol: 0 }, 'channels_last');
      const back = await runOp('channels_first', [[n * s, c]], { height: h, width: w }, [rows]);
      expectAllClose(back, x, { atol: 0, rtol: 0 }, 'channels_first(channels_last(x))');
      for (const kind of actKinds) {
        const alpha = kind === 'leaky_relu' ? 0.2 : 0;
        const y = await runOp('channels_first', [[n * s, c]], { height: h, width: w, act: kind, alpha }, [rows]);
        expectAllClose(y, nchwRef(rows).map((v) => activateRef(v, kind, alpha)), ACTIVATION, `${kind}(channels_first)`);
        const v = savedForGrad(x, kind, alpha);
        const g = randomArray(n * c * s, rng);
        const dg = await runOp('channels_last', [shape, shape], { actGrad: kind, alpha }, [g, v]);
        expectAllClose(dg, rowsRef(Float64Array.from(g, (d, i) => d * activateGradRef(x[i], kind, alpha))), activationGradTolerance(1), `channels_last · ${kind}'`);
      }
    });
  }
});
