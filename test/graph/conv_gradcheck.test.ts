/**
 * conv2d's backward rule (conv2d_grad_input, conv2d_grad_weight + conv2d_grad_weight_reduce), add's, and
 * the conv fusions, checked in a chain:
 *   (a) the float64 references of test/helpers/conv_reference.ts against central finite differences of a
 *       nonlinear loss of the forward reference (no GPU);
 *   (b) the op records (no GPU): the backward rule's nodes, shape errors, and what fuse() folds;
 *   (c) small graphs on the GPU — conv2d → reshape → softmax_xent, two convolutions with an activation
 *       between them (fused epilogues in both directions), a residual block (add, fan-out) — whose
 *       parameter gradients, read from the gradient arena, match finite differences of the reference;
 *   (d) the same for convolutions run as im2col → matmul → channels_first (src/graph/ops_im2col.ts), whose
 *       backward autodiff derives from the matmul's rules, channels_last and col2im.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { readFloats } from '../../src/gpu/readback';
import { appendBackward } from '../../src/graph/autodiff';
import { externalBuffer, Graph, type ExternalBuffer, type Tensor } from '../../src/graph/graph';
import { opDefs, type ActivationName } from '../../src/graph/ops';
import { addConv2d, convRunsAsGemm } from '../../src/graph/ops_im2col';
import { ParameterArena } from '../../src/nn/parameters';
import { Executable } from '../../src/scheduler/executable';
import { fuse } from '../../src/scheduler/fuse';
import { planStep } from '../../src/scheduler/plan';
import { ShapeError } from '../../src/errors';
import { expectAllClose } from '../helpers/compare';
import { conv2dGradInputRef, conv2dGradWeightRef, conv2dRef, geometry } from '../helpers/conv_reference';
import { testGpu } from '../helpers/gpu';
import { activateRef, numericGrad, softmaxXentRef } from '../helpers/reference';
import { FINITE_DIFFERENCE, graphGradientTolerance } from '../tolerances';

type Hyper = { strideH?: number; strideW?: number; padH?: number; padW?: number };

function gaussian(n: number, rng: Rng, std: number): Float64Array {
  // Rounded to float32, so the GPU sees exactly the values the reference differentiates.
  return Float64Array.from({ length: n }, () => Math.fround(rng.normal() * std));
}

const cases: { name: string; input: [number, number, number, number]; weight: [number, number, number, number]; hyper: Hyper }[] = [
  { name: '2→3, 6×5, k3 stride 2 pad 1', input: [2, 2, 6, 5], weight: [3, 2, 3, 3], hyper: { strideH: 2, strideW: 2, padH: 1, padW: 1 } },
  { name: '3→2, 5×6, k3×2, strides 1×2, pads 1×0', input: [2, 3, 5, 6], weight: [2, 3, 3, 2], hyper: { strideW: 2, padH: 1 } },
  { name: '4→3, 5×5, 1×1 stride 2', input: [3, 4, 5, 5], weight: [3, 4, 1, 1], hyper: { strideH: 2, strideW: 2 } },
  { name: '1→2, 2×3, k5 pad 2', input: [2, 1, 2, 3], weight: [2, 1, 5, 5], hyper: { padH: 2, padW: 2 } },
];

describe('(a) conv references vs central finite differences (float64)', () => {
  for (const c of cases) {
    it(`dx, dw, db of Σ c·tanh(conv(x, w) + b): ${c.name}`, () => {
      const g = geometry(c.input, c.weight, c.hyper);
      const rng = new Rng(c.input.join('').length + c.weight[2]);
      const x = gaussian(c.input.reduce((a, b) => a * b), rng, 1);
      const w = gaussian(c.weight.reduce((a, b) => a * b), rng, 0.5);
      const b = gaussian(g.outChannels, rng, 0.3);
      const coef = gaussian(g.batch * g.outChannels * g.outH * g.outW, rng, 1);
      const loss = () => conv2dRef(x, w, b, g).reduce((s, v, i) => s + coef[i] * Math.tanh(v), 0);
      const dy = conv2dRef(x, w, b, g).map((v, i) => coef[i] * (1 - Math.tanh(v) ** 2));
      const { dw, db } = conv2dGradWeightRef(dy, x, g);
      expectAllClose(conv2dGradInputRef(dy, w, g), numericGrad(loss, x), FINITE_DIFFERENCE, 'dx');
      expectAllClose(dw, numericGrad(loss, w), FINITE_DIFFERENCE, 'dw');
      expectAllClose(db, numericGrad(loss, b), FINITE_DIFFERENCE, 'db');
    });
  }

  it('add: both inputs receive dy (Σ c·tanh(a + b))', () => {
    const rng = new Rng(3);
    const [a, b, coef] = [gaussian(30, rng, 1), gaussian(30, rng, 1), gaussian(30, rng, 1)];
    const loss = () => a.reduce((s, v, i) => s + coef[i] * Math.tanh(v + b[i]), 0);
    const dy = a.map((v, i) => coef[i] * (1 - Math.tanh(v + b[i]) ** 2));
    const g = new Graph();
    const [ta, tb] = [g.tensor([5, 6], 'param', 'a'), g.tensor([5, 6], 'activation', 'b')];
    const [sum] = g.add('add', [ta, tb]);
    const tdy = g.tensor([5, 6], 'activation', 'dy');
    const grads = opDefs.add.backward!(g.nodes[0], [tdy], g, [true, true]);
    expect(grads).toEqual([tdy, tdy]);
    expect(sum.shape).toEqual([5, 6]);
    expectAllClose(dy, numericGrad(loss, a), FINITE_DIFFERENCE, 'da');
    expectAllClose(dy, numericGrad(loss, b), FINITE_DIFFERENCE, 'db');
  });
});

describe('(b) conv op records (no GPU)', () => {
  it('the backward rule emits conv2d_grad_input and the two weight-gradient passes, with the forward shapes', () => {
    const g = new Graph();
    const x = g.tensor([8, 3, 11, 10], 'param', 'x');
    const w = g.tensor([5, 3, 3, 3], 'param', 'w');
    const b = g.tensor([5], 'param', 'b');
    const [y] = g.add('conv2d', [x, w, b], { strideH: 2, strideW: 2, padH: 1, padW: 1, name: 'y' });
    expect(y.shape).toEqual([8, 5, 6, 5]);
    const dy = g.tensor(y.shape, 'activation', 'dy');
    const [dx, dw, db] = opDefs.conv2d.backward!(g.nodes[0], [dy], g, [true, true, true]);
    expect(dx!.shape).toEqual(x.shape);
    expect(dw!.shape).toEqual(w.shape);
    expect(db!.shape).toEqual(b.shape);
    expect(g.nodes.map((n) => n.op)).toEqual(['conv2d', 'conv2d_grad_input', 'conv2d_grad_weight', 'conv2d_grad_weight_reduce']);
    const [gradInput, gradWeight, reduce] = g.nodes.slice(1);
    expect(gradInput.inputs).toEqual([dy, w]);
    expect(gradInput.attrs).toMatchObject({ strideH: 2, strideW: 2, padH: 1, padW: 1, inputH: 11, inputW: 10 });
    expect(gradWeight.inputs).toEqual([dy, x]);
    expect(gradWeight.attrs).toMatchObject({ kernelH: 3, kernelW: 3, bias: true });
    expect(reduce.inputs).toEqual(gradWeight.outputs);
    expect(reduce.outputs.map((t) => t.name)).toEqual(['dw', 'db']);
    // Only what is needed: a data input gets no dx; no bias, no db.
    const h = new Graph();
    const data = h.tensor([2, 1, 6, 6], 'external', 'images');
    const w2 = h.tensor([4, 1, 3, 3], 'param', 'w');
    const [y2] = h.add('conv2d', [data, w2]);
    const grads = opDefs.conv2d.backward!(h.nodes[0], [h.tensor(y2.shape, 'activation', 'dy')], h, [false, true]);
    expect(grads[0]).toBeUndefined();
    expect(grads[2]).toBeUndefined();
    expect(h.nodes.map((n) => n.op)).toEqual(['conv2d', 'conv2d_grad_weight', 'conv2d_grad_weight_reduce']);
  });

  it('shape rules throw ShapeErrors naming the op and the shapes', () => {
    const g = new Graph();
    const x = g.tensor([2, 3, 8, 8], 'activation', 'x');
    const expectShapeError = (f: () => unknown, ...words: string[]) => {
      expect(f).toThrow(ShapeError);
      try {
        f();
      } catch (e) {
        for (const word of words) expect((e as Error).message).toContain(word);
      }
    };
    expectShapeError(() => g.add('conv2d', [x, g.tensor([4, 2, 3, 3], 'param', 'w')]), 'conv2d', 'x [2, 3, 8, 8]', 'w [4, 2, 3, 3]');
    expectShapeError(() => g.add('conv2d', [x, g.tensor([4, 3, 3, 3], 'param', 'w'), g.tensor([3], 'param', 'b')]), 'conv2d', 'b [3]', '[4]');
    expectShapeError(() => g.add('conv2d', [x, g.tensor([4, 3, 9, 3], 'param', 'w')]), 'conv2d', 'kernel height 9');
    expectShapeError(() => g.add('conv2d', [x, g.tensor([4, 3, 3, 3], 'param', 'w')], { strideH: 0 }), 'strideH');
    expectShapeError(() => g.add('conv2d', [g.tensor([2, 3, 8], 'activation', 'flat'), g.tensor([4, 3, 3, 3], 'param', 'w')]), 'flat [2, 3, 8]', 'rank 4');
    const w = g.tensor([4, 3, 3, 3], 'param', 'w');
    expectShapeError(() => g.add('conv2d_grad_input', [g.tensor([2, 4, 5, 6], 'activation', 'dy'), w], { inputH: 8, inputW: 8 }), 'conv2d_grad_input', 'dy [2, 4, 5, 6]', '[2, 4, 6, 6]');
    expectShapeError(() => g.add('conv2d_grad_weight', [g.tensor([2, 4, 6, 6], 'activation', 'dy'), x], { kernelH: 3, kernelW: 3, splits: 0 }), 'splits');
    expectShapeError(() => g.add('add', [x, g.tensor([2, 3, 8, 7], 'activation', 'z')]), 'add', 'x [2, 3, 8, 8]', 'z [2, 3, 8, 7]');
  });

  it('addConv2d: im2col → matmul → channels_first where K and Co are multiples of 4, else the direct op', () => {
    const g = new Graph();
    const x = g.tensor([8, 4, 11, 10], 'activation', 'x');
    const w = g.tensor([8, 4, 3, 3], 'param', 'w');
    const b = g.tensor([8], 'param', 'b');
    const y = addConv2d(g, x, w, b, { strideH: 2, strideW: 2, padH: 1, padW: 1, name: 'y' });
    expect(y.shape).toEqual([8, 8, 6, 5]);
    expect(y.name).toBe('y');
    expect(g.nodes.map((n) => n.op)).toEqual(['im2col', 'reshape', 'matmul', 'channels_first']);
    expect(g.nodes[0].outputs[0].shape).toEqual([8 * 6 * 5, 36]);
    expect(g.nodes[2].inputs).toEqual([g.nodes[0].outputs[0], g.nodes[1].outputs[0], b]);
    // K = 3·3·3 = 27: the direct kernels.
    const direct = addConv2d(g, g.tensor([8, 3, 11, 10], 'activation', 'x3'), g.tensor([8, 3, 3, 3], 'param', 'w3'), undefined, { strideH: 1, strideW: 1, padH: 0, padW: 0, name: 'z' });
    expect(g.nodes.at(-1)!.op).toBe('conv2d');
    expect(direct.shape).toEqual([8, 8, 9, 8]);
    const g0 = { batch: 128, inChannels: 16, inH: 14, inW: 14, outChannels: 32, outH: 10, outW: 10, kernelH: 5, kernelW: 5, strideH: 1, strideW: 1, padH: 0, padW: 0 };
    expect(convRunsAsGemm(g0)).toBe(true);
    expect(convRunsAsGemm({ ...g0, outChannels: 30 })).toBe(false);
    expect(convRunsAsGemm({ ...g0, batch: 4096 })).toBe(false); // the unfolded input would pass 64 MiB
  });

  it('im2col, col2im and the layout ops: shape rules throw ShapeErrors naming the op and the shapes', () => {
    const g = new Graph();
    const x = g.tensor([2, 4, 6, 6], 'activation', 'x');
    expect(() => g.add('im2col', [g.tensor([2, 4, 6], 'activation', 'flat')], { kernelH: 3, kernelW: 3 })).toThrow(/im2col: flat \[2, 4, 6\] must have rank 4/);
    expect(() => g.add('im2col', [x], { kernelH: 7, kernelW: 3 })).toThrow(ShapeError);
    expect(() => g.add('col2im', [g.tensor([70, 36], 'activation', 'dcols')], { kernelH: 3, kernelW: 3, inChannels: 4, inputH: 6, inputW: 6 })).toThrow(/col2im: dcols \[70, 36\] must be \[N·16, 36\]/);
    expect(() => g.add('channels_first', [g.tensor([70, 8], 'activation', 'rows')], { height: 3, width: 3 })).toThrow(/channels_first: rows \[70, 8\] must be \[N·3·3, C\]/);
    expect(() => g.add('channels_last', [x, g.tensor([2, 4, 6, 5], 'activation', 'v')])).toThrow(/channels_last: the activation tensor v/);
    const [cols] = g.add('im2col', [x], { kernelH: 3, kernelW: 3, padH: 1, padW: 1 });
    expect(cols.shape).toEqual([2 * 36, 36]);
    expect(g.add('col2im', [cols], { kernelH: 3, kernelW: 3, padH: 1, padW: 1, inChannels: 4, inputH: 6, inputW: 6 })[0].shape).toEqual(x.shape);
  });

  /** A two-convolution training graph, differentiated and fused; the fused node list. */
  function fusedTwoConv(kind: ActivationName) {
    const g = new Graph();
    const x = g.external(externalBuffer('x', 4 * 2 * 1 * 6 * 6), [2, 1, 6, 6]);
    const [w1, b1, w2] = [g.tensor([3, 1, 3, 3], 'param', 'w1'), g.tensor([3], 'param', 'b1'), g.tensor([2, 3, 3, 3], 'param', 'w2')];
    const [z1] = g.add('conv2d', [x, w1, b1], { padH: 1, padW: 1, name: 'z1' });
    const [h] = g.add('activation', [z1], { kind, name: 'h' });
    const [z2] = g.add('conv2d', [h, w2], { name: 'z2' });
    const [logits] = g.add('reshape', [z2], { shape: '2,32' });
    const labels = g.external(externalBuffer('labels', 8), [2], 'u32');
    g.add('softmax_xent', [logits, labels, g.external(externalBuffer('metrics', 32), [8])]);
    appendBackward(g, g.nodes.length - 1);
    return fuse(g.nodes);
  }

  it('fuse: conv2d → relu becomes conv2d{act}, conv2d_grad_input → activation_grad becomes {actGrad}', () => {
    const nodes = fusedTwoConv('relu');
    expect(nodes.filter((n) => n.op === 'activation' || n.op === 'activation_grad')).toEqual([]);
    const forward = nodes.find((n) => n.op === 'conv2d' && n.outputs[0].name === 'h')!;
    expect(forward.attrs.act).toBe('relu');
    const gradInput = nodes.find((n) => n.op === 'conv2d_grad_input')!;
    expect(gradInput.attrs.actGrad).toBe('relu');
    // relu is differentiated from its output: the fused epilogue reads h.
    expect(gradInput.inputs[2]).toBe(forward.outputs[0]);
  });

  it('fuse with GELU: the backward reads the pre-activation, so only the backward fuses', () => {
    const nodes = fusedTwoConv('gelu');
    const z1 = nodes.find((n) => n.op === 'conv2d' && n.outputs[0].name === 'z1')!;
    expect(z1.attrs.act).toBeUndefined();
    expect(nodes.filter((n) => n.op === 'activation').length).toBe(1);
    const gradInput = nodes.find((n) => n.op === 'conv2d_grad_input')!;
    expect(gradInput.attrs.actGrad).toBe('gelu');
    expect(gradInput.inputs[2]).toBe(z1.outputs[0]);
  });
});

/**
 * Builds `body(graph, params, x?) → output` (any rank; flattened to [N, classes] logits; x an optional
 * external input), follows it with
 * softmax_xent, differentiates, fuses, plans and runs it once; returns each parameter's gradient, the mean
 * loss and the fused node list.
 */
async function gpuGradients(
  params: Record<string, { shape: number[]; value: Float64Array }>,
  x: { shape: number[]; value: Float64Array } | undefined,
  labels: Uint32Array,
  body: (g: Graph, p: Record<string, Tensor>, x: Tensor | undefined) => Tensor,
) {
  const { gpu, resources } = await testGpu();
  const g = new Graph();
  const handles = new Map<ExternalBuffer, GPUBuffer>();
  const external = (name: string, data: Float32Array | Uint32Array, shape: number[], dtype: 'f32' | 'u32' = 'f32') => {
    const handle = externalBuffer(name, data.byteLength);
    handles.set(handle, resources.createStorage(name, data));
    return g.external(handle, shape, dtype);
  };
  const tensors = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, g.tensor(p.shape, 'param', name)]));
  const out = body(g, tensors, x && external('x', Float32Array.from(x.value), x.shape));
  const [logits] = g.add('reshape', [out], { shape: `${out.shape[0]},${out.size / out.shape[0]}` });
  const metrics = external('metrics', new Float32Array(8), [8]);
  g.add('softmax_xent', [logits, external('labels', labels, [labels.length], 'u32'), metrics], { training: true });
  appendBackward(g, g.nodes.length - 1);

  const arena = new ParameterArena(Object.entries(params).map(([name, p]) => ({ name, shape: p.shape, decay: false })));
  const initial = new Float32Array(arena.totalFloats);
  for (const [name, p] of Object.entries(params)) initial.set(Float32Array.from(p.value), arena.slot(name).offset);
  const [paramsBuffer, gradsBuffer] = [externalBuffer('params', initial.byteLength), externalBuffer('grads', initial.byteLength)];
  handles.set(paramsBuffer, resources.createStorage('params', initial));
  handles.set(gradsBuffer, resources.createStorage('grads', new Float32Array(arena.totalFloats).fill(NaN))); // poisoned
  const nodes = fuse(g.nodes);
  const exe = await Executable.create(resources, planStep(nodes, { params: arena, paramsBuffer, gradsBuffer }), handles, 'conv-gradcheck');
  try {
    const encoder = resources.device.createCommandEncoder();
    exe.encode(encoder);
    resources.device.queue.submit([encoder.finish()]);
    const all = await readFloats(resources, handles.get(gradsBuffer)!);
    const m = await readFloats(resources, handles.get(metrics.external!)!);
    gpu.check();
    const grads = Object.fromEntries(arena.slots.map((s) => [s.name, all.slice(s.offset, s.offset + s.size)]));
    return { grads, loss: m[0] / labels.length, nodes };
  } finally {
    exe.destroy();
    handles.forEach((b) => resources.destroyBuffer(b));
  }
}

/** gpuGradients' parameters: each value with its shape. */
function withShapes(values: Record<string, Float64Array>, shapes: Record<string, number[]>) {
  return Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { shape: shapes[k], value }]));
}

const meanXent = (logits: ArrayLike<number>, labels: Uint32Array) => softmaxXentRef(logits, labels, labels.length, logits.length / labels.length).lossSum / labels.length;

/** Compares every gradient with finite differences of `loss` (float64), K the longest reduction involved. */
function expectGradients(grads: Record<string, Float32Array>, values: Record<string, Float64Array>, loss: () => number, K: number) {
  for (const [name, v] of Object.entries(values)) expectAllClose(grads[name], numericGrad(loss, v), graphGradientTolerance(K), `d${name}`);
}

describe('(c) conv graphs on the GPU: gradients vs finite differences of the float64 reference', () => {
  for (const c of cases) {
    it(`conv2d (+ bias) → softmax_xent, x a parameter: ${c.name}`, async () => {
      const g = geometry(c.input, c.weight, c.hyper);
      const rng = new Rng(c.input[1] * 10 + c.weight[0]);
      const values = {
        x: gaussian(c.input.reduce((a, b) => a * b), rng, 1),
        w: gaussian(c.weight.reduce((a, b) => a * b), rng, 0.5),
        b: gaussian(g.outChannels, rng, 0.3),
      };
      const classes = g.outChannels * g.outH * g.outW;
      const labels = Uint32Array.from({ length: g.batch }, () => rng.nextBelow(classes));
      const loss = () => meanXent(conv2dRef(values.x, values.w, values.b, g), labels);
      const shapes = { x: c.input, w: c.weight, b: [g.outChannels] };
      const { grads, loss: gpuLoss, nodes } = await gpuGradients(
        withShapes(values, shapes),
        undefined,
        labels,
        (graph, p) => graph.add('conv2d', [p.x, p.w, p.b], { ...c.hyper, name: 'z' })[0],
      );
      expect(nodes.map((n) => n.op).filter((op) => op.startsWith('conv2d'))).toEqual(['conv2d', 'conv2d_grad_input', 'conv2d_grad_weight', 'conv2d_grad_weight_reduce']);
      expect(gpuLoss).toBeCloseTo(loss(), 5);
      expectGradients(grads, values, loss, Math.max(g.batch * g.outH * g.outW, g.outChannels * g.kernelH * g.kernelW));
    });
  }

  for (const kind of ['tanh', 'gelu'] as const) {
    it(`two convolutions with ${kind} between them (fused epilogues: conv2d{act} / conv2d_grad_input{actGrad})`, async () => {
      const rng = new Rng(kind.length);
      const x = gaussian(2 * 2 * 7 * 7, rng, 1);
      const values = { w1: gaussian(3 * 2 * 3 * 3, rng, 0.5), b1: gaussian(3, rng, 0.3), w2: gaussian(4 * 3 * 3 * 3, rng, 0.4), b2: gaussian(4, rng, 0.3) };
      const g1 = geometry([2, 2, 7, 7], [3, 2, 3, 3], { padH: 1, padW: 1 });
      const g2 = geometry([2, 3, 7, 7], [4, 3, 3, 3], { strideH: 2, strideW: 2 });
      const labels = Uint32Array.from({ length: 2 }, () => rng.nextBelow(4 * 3 * 3));
      const loss = () => {
        const h = conv2dRef(x, values.w1, values.b1, g1).map((v) => activateRef(v, kind));
        return meanXent(conv2dRef(h, values.w2, values.b2, g2), labels);
      };
      const shapes = { w1: [3, 2, 3, 3], b1: [3], w2: [4, 3, 3, 3], b2: [4] };
      const { grads, loss: gpuLoss, nodes } = await gpuGradients(
        withShapes(values, shapes),
        { shape: [2, 2, 7, 7], value: x },
        labels,
        (graph, p, input) => {
          const [z1] = graph.add('conv2d', [input!, p.w1, p.b1], { padH: 1, padW: 1, name: 'z1' });
          const [h] = graph.add('activation', [z1], { kind, name: 'h' });
          return graph.add('conv2d', [h, p.w2, p.b2], { strideH: 2, strideW: 2, name: 'z2' })[0];
        },
      );
      expect(nodes.find((n) => n.op === 'conv2d_grad_input')?.attrs.actGrad).toBe(kind);
      expect(nodes.some((n) => n.op === 'conv2d' && n.attrs.act === kind)).toBe(kind === 'tanh');
      expect(gpuLoss).toBeCloseTo(loss(), 5);
      expectGradients(grads, values, loss, 2 * 7 * 7);
    });
  }

  it('a residual block: y = x + conv(relu(conv(x))), x a parameter (add, and the fan-out gradient of x)', async () => {
    const rng = new Rng(11);
    const values = { x: gaussian(2 * 3 * 5 * 5, rng, 1), w1: gaussian(3 * 3 * 3 * 3, rng, 0.4), w2: gaussian(3 * 3 * 3 * 3, rng, 0.4) };
    const gc = geometry([2, 3, 5, 5], [3, 3, 3, 3], { padH: 1, padW: 1 });
    const labels = Uint32Array.from({ length: 2 }, () => rng.nextBelow(75));
    const loss = () => {
      const h = conv2dRef(values.x, values.w1, undefined, gc).map((v) => Math.max(v, 0));
      return meanXent(conv2dRef(h, values.w2, undefined, gc).map((v, i) => v + values.x[i]), labels);
    };
    const shapes = { x: [2, 3, 5, 5], w1: [3, 3, 3, 3], w2: [3, 3, 3, 3] };
    const { grads, loss: gpuLoss, nodes } = await gpuGradients(
      withShapes(values, shapes),
      undefined,
      labels,
      (graph, p) => {
        const [z1] = graph.add('conv2d', [p.x, p.w1], { padH: 1, padW: 1, name: 'z1' });
        const [h] = graph.add('activation', [z1], { kind: 'relu', name: 'h' });
        const [z2] = graph.add('conv2d', [h, p.w2], { padH: 1, padW: 1, name: 'z2' });
        return graph.add('add', [z2, p.x], { name: 'y' })[0];
      },
    );
    // The forward add, and autodiff's sum of x's two gradients.
    expect(nodes.filter((n) => n.op === 'add').length).toBe(2);
    expect(gpuLoss).toBeCloseTo(loss(), 5);
    expectGradients(grads, values, loss, 2 * 5 * 5);
  });
});

describe('(d) convolutions run as im2col → matmul on the GPU: gradients vs finite differences', () => {
  const gemmCases: { name: string; input: [number, number, number, number]; weight: [number, number, number, number]; hyper: Hyper }[] = [
    { name: '4→4, 6×5, k3 stride 2 pad 1', input: [2, 4, 6, 5], weight: [4, 4, 3, 3], hyper: { strideH: 2, strideW: 2, padH: 1, padW: 1 } },
    { name: '4→8, 5×5, 1×1', input: [3, 4, 5, 5], weight: [8, 4, 1, 1], hyper: {} },
    { name: '2→4, 4×5, k2×3, strides 1×2, pads 1×0', input: [2, 2, 4, 5], weight: [4, 2, 2, 3], hyper: { strideW: 2, padH: 1 } },
  ];
  for (const c of gemmCases) {
    it(`conv (+ bias) → relu → softmax_xent, x a parameter: ${c.name}`, async () => {
      const g = geometry(c.input, c.weight, c.hyper);
      expect(convRunsAsGemm(g)).toBe(true);
      const rng = new Rng(c.input[1] * 10 + c.weight[0] + 1);
      const values = {
        x: gaussian(c.input.reduce((a, b) => a * b), rng, 1),
        w: gaussian(c.weight.reduce((a, b) => a * b), rng, 0.5),
        b: gaussian(g.outChannels, rng, 0.3),
      };
      const classes = g.outChannels * g.outH * g.outW;
      const labels = Uint32Array.from({ length: g.batch }, () => rng.nextBelow(classes));
      const loss = () => meanXent(conv2dRef(values.x, values.w, values.b, g).map((v) => Math.max(v, 0)), labels);
      const shapes = { x: c.input, w: c.weight, b: [g.outChannels] };
      const { grads, loss: gpuLoss, nodes } = await gpuGradients(
        withShapes(values, shapes),
        undefined,
        labels,
        (graph, p) => {
          const z = addConv2d(graph, p.x, p.w, p.b, { strideH: 1, strideW: 1, padH: 0, padW: 0, ...c.hyper, name: 'z' });
          return graph.add('activation', [z], { kind: 'relu', name: 'h' })[0];
        },
      );
      // relu folds into channels_first, its derivative into channels_last; db into the weight-gradient product.
      const ops = nodes.map((n) => n.op);
      expect(ops.filter((op) => op !== 'softmax_xent' && op !== 'reshape')).toEqual(['im2col', 'matmul', 'channels_first', 'channels_last', 'matmul', 'matmul', 'col2im']);
      expect(nodes.find((n) => n.op === 'channels_first')!.attrs.act).toBe('relu');
      expect(nodes.find((n) => n.op === 'channels_last')!.attrs.actGrad).toBe('relu');
      expect(nodes.some((n) => n.op === 'matmul' && n.attrs.biasGrad)).toBe(true);
      expect(gpuLoss).toBeCloseTo(loss(), 5);
      expectGradients(grads, values, loss, Math.max(g.batch * g.outH * g.outW, g.outChannels * g.kernelH * g.kernelW));
    });
  }

  it('two convolutions with gelu between them (col2im{actGrad}; gelu reads its input, so its forward stays)', async () => {
    const rng = new Rng(5);
    const x = gaussian(2 * 4 * 6 * 6, rng, 1);
    const values = { w1: gaussian(4 * 4 * 3 * 3, rng, 0.4), b1: gaussian(4, rng, 0.3), w2: gaussian(8 * 4 * 3 * 3, rng, 0.3) };
    const g1 = geometry([2, 4, 6, 6], [4, 4, 3, 3], { padH: 1, padW: 1 });
    const g2 = geometry([2, 4, 6, 6], [8, 4, 3, 3], { strideH: 2, strideW: 2 });
    const labels = Uint32Array.from({ length: 2 }, () => rng.nextBelow(8 * 2 * 2));
    const loss = () => {
      const h = conv2dRef(x, values.w1, values.b1, g1).map((v) => activateRef(v, 'gelu'));
      return meanXent(conv2dRef(h, values.w2, undefined, g2), labels);
    };
    const shapes = { w1: [4, 4, 3, 3], b1: [4], w2: [8, 4, 3, 3] };
    const { grads, loss: gpuLoss, nodes } = await gpuGradients(
      withShapes(values, shapes),
      { shape: [2, 4, 6, 6], value: x },
      labels,
      (graph, p, input) => {
        const z1 = addConv2d(graph, input!, p.w1, p.b1, { strideH: 1, strideW: 1, padH: 1, padW: 1, name: 'z1' });
        const [h] = graph.add('activation', [z1], { kind: 'gelu', name: 'h' });
        return addConv2d(graph, h, p.w2, undefined, { strideH: 2, strideW: 2, padH: 0, padW: 0, name: 'z2' });
      },
    );
    expect(nodes.find((n) => n.op === 'col2im')?.attrs.actGrad).toBe('gelu');
    expect(nodes.filter((n) => n.op === 'col2im').length).toBe(1); // x is data: no dx for the first convolution
    expect(nodes.filter((n) => n.op === 'activation').length).toBe(1);
    expect(gpuLoss).toBeCloseTo(loss(), 5);
    expectGradients(grads, values, loss, 2 * 6 * 6);
  });
});
