/**
 * The backward rules of the norm and pooling ops, through the whole engine path: a one-op graph, its
 * backward rule, fusion, the plan (two-dispatch nodes with their scratch buffers, running statistics in
 * the state buffer) and the executable, run once on the GPU; the gradients read from the (NaN-poisoned)
 * gradient arena are compared with the float64 reference gradients, which the kernel tests check against
 * central finite differences (test/kernels/{batch_norm,group_norm,norm,pool2d}.test.ts).
 *   (a) 4-D and 2-D ops with an upstream gradient dy given as an external buffer: the engine has no
 *       flatten op yet to reach softmax_xent from [N, C, H, W];
 *   (b) 2-D norms straight into softmax_xent, differentiated by appendBackward;
 *   (c) the plan: a two-dispatch node gets one scratch buffer that no tensor of the node aliases.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { readFloats } from '../../src/gpu/readback';
import { appendBackward } from '../../src/graph/autodiff';
import { externalBuffer, Graph, type Attrs, type ExternalBuffer, type Tensor } from '../../src/graph/graph';
import { opDefs, type OpName } from '../../src/graph/ops';
import { ParameterArena } from '../../src/nn/parameters';
import { Executable } from '../../src/scheduler/executable';
import { fuse } from '../../src/scheduler/fuse';
import { formatPlan, planStep, type ArenaLayout } from '../../src/scheduler/plan';
import { expectAllClose } from '../helpers/compare';
import { randomArray, testGpu } from '../helpers/gpu';
import { avgPoolBackwardRef, batchNormNdBackwardRef, batchNormNdRef, groupNormBackwardRef, groupNormRef, maxPoolBackwardRef, maxPoolRef } from '../helpers/norm_pool_reference';
import { batchNormRef, layerNormBackwardRef, layerNormRef, softmaxXentRef, type Vec } from '../helpers/reference';
import { normInputGradTolerance, normParamGradTolerance, poolTolerance } from '../tolerances';

const EPS = 1e-5;
const maxAbs = (a: Vec) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** max |μ|/σ over a norm's statistics, and its largest rstd: what the tolerances scale with. */
const conditioning = (ref: { mean: Vec; rstd: Vec }) => ({ R: maxAbs(Array.from(ref.mean, (m, i) => m * ref.rstd[i])), rstd: maxAbs(ref.rstd) });

interface Built {
  params: Record<string, Tensor>;
  output: Tensor;
}

/** The graph's parameter and state arenas, and a handle for every external tensor (by name). */
function layoutOf(g: Graph): { layout: ArenaLayout; externals: Map<string, ExternalBuffer> } {
  const arenaOf = (role: 'param' | 'state') => new ParameterArena(g.tensors.filter((t) => t.role === role).map((t) => ({ name: t.name, shape: [...t.shape], decay: false })));
  const [params, state] = [arenaOf('param'), arenaOf('state')];
  const externals = new Map<string, ExternalBuffer>();
  for (const t of g.tensors.filter((t) => t.role === 'external')) {
    if (!externals.has(t.name)) externals.set(t.name, externalBuffer(t.name, t.size * 4));
    t.external ??= externals.get(t.name);
  }
  const handle = (name: string, arena: ParameterArena) => externalBuffer(name, arena.totalFloats * 4);
  return { layout: { params, paramsBuffer: handle('params', params), gradsBuffer: handle('grads', params), state, stateBuffer: handle('state', state) }, externals };
}

/** Parameter values by name, uploaded to the arena; `state` tensors are uploaded to the state arena. */
async function runGraph(g: Graph, values: Record<string, Float32Array>, externals: Record<string, Float32Array | Uint32Array>) {
  const { gpu, resources } = await testGpu();
  const { layout, externals: handles } = layoutOf(g);
  const fill = (arena: ParameterArena) => {
    const data = new Float32Array(arena.totalFloats);
    for (const slot of arena.slots) data.set(values[slot.name], slot.offset);
    return data;
  };
  const plan = planStep(fuse(g.nodes), layout);
  const buffers = new Map<ExternalBuffer, GPUBuffer>([
    [layout.paramsBuffer, resources.createStorage('params', fill(layout.params))],
    [layout.gradsBuffer, resources.createStorage('grads', new Float32Array(layout.params.totalFloats).fill(NaN))],
    [layout.stateBuffer!, resources.createStorage('state', fill(layout.state!))],
    ...Object.entries(externals).map(([name, data]) => [handles.get(name)!, resources.createStorage(name, data)] as [ExternalBuffer, GPUBuffer]),
  ]);
  const exe = await Executable.create(resources, plan, buffers, 'norm-pool-gradcheck');
  try {
    const encoder = resources.device.createCommandEncoder();
    exe.encode(encoder);
    resources.device.queue.submit([encoder.finish()]);
    const grads = await readFloats(resources, buffers.get(layout.gradsBuffer)!);
    const metrics = externals.metrics ? await readFloats(resources, buffers.get(handles.get('metrics')!)!) : undefined;
    gpu.check();
    const arena = layout.params;
    const gradOf = (name: string) => grads.slice(arena.slot(name).offset, arena.slot(name).offset + arena.slot(name).size);
    return { gradOf, plan, metrics };
  } finally {
    exe.destroy();
    buffers.forEach((b) => resources.destroyBuffer(b));
  }
}

/** Applies the op's backward rule to an external dy and labels the results as parameter gradients, as autodiff does. */
function backwardFrom(g: Graph, output: Tensor, dy: Tensor): void {
  const node = g.nodes[0];
  const rule = opDefs[node.op].backward!;
  const grads = rule(node, node.outputs.map((t) => (t === output ? dy : undefined)), g, node.inputs.map((t) => t.role === 'param'));
  grads.forEach((grad, i) => {
    if (!grad) return;
    grad.role = 'grad';
    grad.gradOf = node.inputs[i];
  });
}

interface Case {
  title: string;
  shape: number[];
  build: (g: Graph, x: Tensor) => Built;
  /** Reference gradients by parameter name, and the tolerance of each. */
  reference: (x: Float32Array, values: Record<string, Float32Array>, dy: Float32Array) => Record<string, { value: Vec; tol: { atol: number; rtol: number } }>;
}

const affine = (g: Graph, c: number, prefix: string) => ({ gamma: g.tensor([c], 'param', `${prefix}.weight`), beta: g.tensor([c], 'param', `${prefix}.bias`) });

function batchNormCase(shape: number[]): Case {
  const [outer, C] = shape;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  return {
    title: `batch_norm [${shape}]`,
    shape,
    build: (g, x) => {
      const { gamma, beta } = affine(g, C, 'bn');
      const stats = ['bn.running_mean', 'bn.running_var'].map((name) => g.tensor([C], 'state', name));
      const [y] = g.add('batch_norm', [x, gamma, beta, ...stats], { training: true, eps: EPS });
      return { params: { gamma, beta }, output: y };
    },
    reference: (x, v, dy) => {
      const r = batchNormNdBackwardRef(dy, x, v['bn.weight'], outer, C, inner, EPS);
      const { R, rstd } = conditioning(batchNormNdRef(x, v['bn.weight'], v['bn.bias'], outer, C, inner, EPS));
      const n = outer * inner;
      return {
        x: { value: r.dx, tol: normInputGradTolerance(n, R, maxAbs(v['bn.weight']) * rstd * maxAbs(dy)) },
        'bn.weight': { value: r.dgamma, tol: normParamGradTolerance(n, R, maxAbs(dy)) },
        'bn.bias': { value: r.dbeta, tol: normParamGradTolerance(n, 0, maxAbs(dy)) },
      };
    },
  };
}

function groupNormCase(shape: number[], groups: number, withAffine: boolean): Case {
  const [N, C] = shape;
  const S = shape.slice(2).reduce((a, b) => a * b, 1);
  return {
    title: `group_norm [${shape}] G=${groups}${withAffine ? '' : ' no affine'}`,
    shape,
    build: (g, x) => {
      const p = withAffine ? affine(g, C, 'gn') : undefined;
      const [y] = g.add('group_norm', p ? [x, p.gamma, p.beta] : [x], { groups, eps: EPS });
      return { params: p ?? {}, output: y };
    },
    reference: (x, v, dy) => {
      const r = groupNormBackwardRef(dy, x, withAffine ? v['gn.weight'] : undefined, N, C, S, groups, EPS);
      const { R, rstd } = conditioning(groupNormRef(x, undefined, undefined, N, C, S, groups, EPS));
      const length = (C / groups) * S;
      const out: ReturnType<Case['reference']> = { x: { value: r.dx, tol: normInputGradTolerance(length, R, (withAffine ? maxAbs(v['gn.weight']) : 1) * rstd * maxAbs(dy)) } };
      if (withAffine) {
        out['gn.weight'] = { value: r.dgamma, tol: normParamGradTolerance(N * S, R, maxAbs(dy)) };
        out['gn.bias'] = { value: r.dbeta, tol: normParamGradTolerance(N * S, 0, maxAbs(dy)) };
      }
      return out;
    },
  };
}

function layerNormCase(shape: number[], normalizedDims: number, withAffine: boolean): Case {
  const features = shape.slice(shape.length - normalizedDims).reduce((a, b) => a * b, 1);
  const rows = shape.reduce((a, b) => a * b, 1) / features;
  return {
    title: `layer_norm [${shape}] over ${normalizedDims} dim(s)${withAffine ? '' : ' no affine'}`,
    shape,
    build: (g, x) => {
      const trailing = shape.slice(shape.length - normalizedDims);
      const p = withAffine ? { gamma: g.tensor(trailing, 'param', 'ln.weight'), beta: g.tensor(trailing, 'param', 'ln.bias') } : undefined;
      const [y] = g.add('layer_norm', p ? [x, p.gamma, p.beta] : [x], { normalizedDims, eps: EPS });
      return { params: p ?? {}, output: y };
    },
    reference: (x, v, dy) => {
      const gamma = withAffine ? v['ln.weight'] : new Float32Array(features).fill(1);
      const r = layerNormBackwardRef(dy, x, gamma, rows, features, EPS);
      const { R, rstd } = conditioning(layerNormRef(x, gamma, new Float32Array(features), rows, features, EPS));
      const out: ReturnType<Case['reference']> = { x: { value: r.dx, tol: normInputGradTolerance(features, R, maxAbs(gamma) * rstd * maxAbs(dy)) } };
      if (withAffine) {
        out['ln.weight'] = { value: r.dgamma, tol: normParamGradTolerance(rows, R, maxAbs(dy)) };
        out['ln.bias'] = { value: r.dbeta, tol: normParamGradTolerance(rows, 0, maxAbs(dy)) };
      }
      return out;
    },
  };
}

function poolCase(op: 'max_pool2d' | 'avg_pool2d', shape: number[], attrs: Attrs): Case {
  const [n, c, h, w] = shape;
  const window = { kernelH: Number(attrs.kernel), kernelW: Number(attrs.kernel), strideH: Number(attrs.stride ?? attrs.kernel), strideW: Number(attrs.stride ?? attrs.kernel), padH: Number(attrs.padding ?? 0), padW: Number(attrs.padding ?? 0) };
  return {
    title: `${op} [${shape}] ${JSON.stringify(attrs)}`,
    shape,
    build: (g, x) => ({ params: {}, output: g.add(op, [x], attrs)[0] }),
    reference: (x, _v, dy) => {
      const tol = poolTolerance(window.kernelH, window.kernelW);
      if (op === 'avg_pool2d') return { x: { value: avgPoolBackwardRef(dy, n * c, h, w, window), tol } };
      const max = maxPoolRef(x, n * c, h, w, window);
      return { x: { value: maxPoolBackwardRef(dy, max.indices, n * c, h, w, max.outH, max.outW), tol } };
    },
  };
}

const cases: Case[] = [
  batchNormCase([6, 5]),
  batchNormCase([2, 3, 4, 5]),
  batchNormCase([1, 3, 3, 3]),
  groupNormCase([2, 6, 3, 3], 3, true),
  groupNormCase([2, 3, 4, 4], 3, false), // InstanceNorm2d
  groupNormCase([3, 4], 2, true),
  layerNormCase([5, 7], 1, true),
  layerNormCase([2, 3, 4], 2, true),
  layerNormCase([3, 6], 1, false),
  poolCase('max_pool2d', [2, 3, 7, 7], { kernel: 3, stride: 2, padding: 1 }),
  poolCase('max_pool2d', [1, 2, 4, 4], { kernel: 2 }),
  poolCase('avg_pool2d', [2, 3, 7, 7], { kernel: 3, stride: 2, padding: 1 }),
  poolCase('avg_pool2d', [1, 2, 5, 4], { kernel: 2, stride: 1 }),
];

describe('(a) each backward rule on the GPU (one op, external dy) vs the float64 reference gradient', () => {
  for (const c of cases) {
    it(c.title, async () => {
      const rng = new Rng(c.title.length * 7 + c.shape.length);
      const g = new Graph();
      const x = g.tensor(c.shape, 'param', 'x');
      const { params, output } = c.build(g, x);
      const dy = g.tensor(output.shape, 'external', 'dy');
      backwardFrom(g, output, dy);
      const values: Record<string, Float32Array> = { x: randomArray(x.size, rng, 2) };
      for (const t of Object.values(params)) values[t.name] = randomArray(t.size, rng, 1.5);
      const C = c.shape[1];
      values['bn.running_mean'] = new Float32Array(C);
      values['bn.running_var'] = new Float32Array(C).fill(1);
      const dyValue = randomArray(dy.size, rng);
      const { gradOf } = await runGraph(g, values, { dy: dyValue });
      const expected = c.reference(values.x, values, dyValue);
      for (const [name, { value, tol }] of Object.entries(expected)) expectAllClose(gradOf(name), value, tol, `d${name}`);
      // Every parameter has its gradient, and nothing else is in the gradient arena.
      expect(Object.keys(expected).sort()).toEqual(['x', ...Object.values(params).map((t) => t.name)].sort());
    });
  }
});

describe('(b) 2-D norms into softmax_xent, differentiated by appendBackward', () => {
  const [rows, classes] = [9, 7];
  for (const op of ['batch_norm', 'layer_norm', 'group_norm'] as OpName[]) {
    it(`${op}: x [${rows}, ${classes}] → ${op} → softmax_xent`, async () => {
      const rng = new Rng(op.length);
      const g = new Graph();
      const x = g.tensor([rows, classes], 'param', 'x');
      const { gamma, beta } = affine(g, classes, 'n');
      const extra = op === 'batch_norm' ? ['n.running_mean', 'n.running_var'].map((name) => g.tensor([classes], 'state', name)) : [];
      const attrs: Attrs = op === 'group_norm' ? { groups: 1, eps: EPS } : { eps: EPS };
      const [y] = g.add(op, [x, gamma, beta, ...extra], attrs);
      const labels = g.tensor([rows], 'external', 'labels', 'u32');
      const metrics = g.tensor([8], 'external', 'metrics');
      g.add('softmax_xent', [y, labels, metrics], { training: true });
      const grads = appendBackward(g, g.nodes.length - 1);
      expect([...grads.keys()].sort()).toEqual([x.id, gamma.id, beta.id].sort());

      const values: Record<string, Float32Array> = { x: randomArray(rows * classes, rng, 2), 'n.weight': randomArray(classes, rng, 1.5), 'n.bias': randomArray(classes, rng) };
      values['n.running_mean'] = new Float32Array(classes);
      values['n.running_var'] = new Float32Array(classes).fill(1);
      const labelValues = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
      const { gradOf, metrics: m } = await runGraph(g, values, { labels: labelValues, metrics: new Float32Array(8) });

      // GroupNorm(1, F) on [B, F] is LayerNorm(F): the same reference.
      const batch = op === 'batch_norm';
      const ref = (batch ? batchNormRef : layerNormRef)(values.x, values['n.weight'], values['n.bias'], rows, classes, EPS);
      const { lossSum, dlogits } = softmaxXentRef(ref.y, labelValues, rows, classes);
      expect(m![0] / rows).toBeCloseTo(lossSum / rows, 5);
      const r = batch ? batchNormNdBackwardRef(dlogits, values.x, values['n.weight'], rows, classes, 1, EPS) : layerNormBackwardRef(dlogits, values.x, values['n.weight'], rows, classes, EPS);
      const { R, rstd } = conditioning(ref);
      const length = batch ? rows : classes;
      const scale = maxAbs(values['n.weight']) * rstd * maxAbs(dlogits);
      // softmax_xent's dlogits (exp, a sum, a division) carry a few u of their own, relative to max|dlogits|:
      // 64u·max|dlogits| on top of each bound, times the largest factor (γ·rstd, or 4 for x̂) they meet.
      const dlogitsError = 64 * 2 ** -24 * maxAbs(dlogits);
      const dxTol = normInputGradTolerance(length, R, scale);
      expectAllClose(gradOf('x'), r.dx, { atol: dxTol.atol + dlogitsError * maxAbs(values['n.weight']) * rstd, rtol: dxTol.rtol }, 'dx');
      const paramTol = normParamGradTolerance(rows, R, maxAbs(dlogits));
      expectAllClose(gradOf('n.weight'), r.dgamma, { atol: paramTol.atol + 4 * rows * dlogitsError, rtol: paramTol.rtol }, 'dγ');
      expectAllClose(gradOf('n.bias'), r.dbeta, { atol: paramTol.atol + rows * dlogitsError, rtol: paramTol.rtol }, 'dβ');
    });
  }
});

describe('(c) the plan of two-dispatch nodes', () => {
  it('batch_norm forward and backward: two dispatches each, a scratch buffer for the partials, running statistics in the state buffer', () => {
    const g = new Graph();
    const x = g.tensor([8, 3, 5, 5], 'param', 'x');
    const { gamma, beta } = affine(g, 3, 'bn');
    const stats = ['bn.running_mean', 'bn.running_var'].map((name) => g.tensor([3], 'state', name));
    const [y] = g.add('batch_norm', [x, gamma, beta, ...stats], {});
    backwardFrom(g, y, g.tensor(y.shape, 'external', 'dy'));
    const plan = planStep(fuse(g.nodes), layoutOf(g).layout);
    expect(plan.dispatches.map((d) => d.kernel)).toEqual(['batchNormStats', 'batchNormForward', 'channelSums', 'batchNormBackward']);
    expect(plan.dispatches.map((d) => d.label)).toEqual([
      'batch_norm→bn,bn.mean,bn.rstd (1/2)',
      'batch_norm→bn,bn.mean,bn.rstd (2/2)',
      'batch_norm_grad→dx,dbn.weight,dbn.bias (1/2)',
      'batch_norm_grad→dx,dbn.weight,dbn.bias (2/2)',
    ]);
    const [stats1, forward, sums, backward] = plan.dispatches;
    // The partials: written by the first dispatch, read by the second, in a buffer no tensor of the node uses.
    expect(forward.bindings[3]).toEqual(stats1.bindings[1]);
    expect(backward.bindings[5]).toEqual(sums.bindings[4]);
    const tensorBuffers = (node: number) => [...g.nodes[node].inputs, ...g.nodes[node].outputs].map((t) => plan.refs.get(t.id)!.buffer);
    expect(tensorBuffers(0)).not.toContain(stats1.bindings[1].buffer);
    expect(tensorBuffers(1)).not.toContain(sums.bindings[4].buffer);
    // Running statistics: read_write bindings of the state buffer, at their slots.
    const { state } = layoutOf(g).layout;
    expect(forward.bindings.slice(4, 6)).toEqual(stats.map((t) => ({ buffer: 'state', offset: state!.slot(t.name).offset * 4, size: 12 })));
    expect(formatPlan(plan)).toContain('batchNormStats');
  });
});
