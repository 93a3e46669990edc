// Group norm and instance norm (GroupNorm(G, C), InstanceNorm2d = G = C without affine) on [N, C, *]: the
// float64 references against central finite differences, then the GPU, run exactly as the planner
// lowers each op (one dispatch forward; channel_sums then the row backward with γ, the row backward alone
// without), against the references: y, mean and rstd per (n, g), dx, dγ, dβ. Channel counts off the tile
// sizes (3, 17), batch 1, odd planes, groups of one channel, one group, a mean far from zero, and
// GroupNorm(4, 16) at MNIST-CNN size. Determinism: a rerun is bitwise identical.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { ShapeError } from '../../src/errors';
import { Graph, type Tensor } from '../../src/graph/graph';
import { expectAllClose } from '../helpers/compare';
import { randomArray, type HostArray } from '../helpers/gpu';
import { groupNormBackwardRef, groupNormRef } from '../helpers/norm_pool_reference';
import { numericGrad, type Vec } from '../helpers/reference';
import { longestRun, runNode, SPLITS } from '../helpers/run_node';
import { normInputGradTolerance, normOutputTolerance, normParamGradTolerance, rstdTolerance } from '../tolerances';

const EPS = 1e-5;
const dot = (a: Vec, b: Vec) => Array.from({ length: a.length }, (_, i) => a[i] * b[i]).reduce((s, v) => s + v, 0);
const maxAbs = (a: Vec) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const conditioning = (ref: { mean: Vec; rstd: Vec }) => maxAbs(Array.from(ref.mean, (m, i) => m * ref.rstd[i]));

function inputs(shape: number[], seed: number, offset = 0) {
  const rng = new Rng(seed);
  const [N, C] = shape;
  const S = shape.slice(2).reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: N * C * S }, (_, i) => {
    const c = Math.floor(i / S) % C;
    return offset + (1 + (c % 4) * 0.5) * (rng.nextFloat() * 2 - 1) + (offset ? 0 : 0.4 * (c % 3));
  });
  return { N, C, S, x, gamma: randomArray(C, rng, 2), beta: randomArray(C, rng), dy: randomArray(x.length, rng) };
}

describe('float64 reference vs finite differences', () => {
  for (const [shape, groups, affine] of [
    [[2, 4, 3], 2, true],
    [[1, 3, 2, 2], 3, false],
    [[2, 6], 1, true],
    [[3, 4, 2, 1], 4, true],
  ] as [number[], number, boolean][]) {
    it(`group norm [${shape}] G=${groups}${affine ? '' : ' no affine'}: dx, dγ, dβ`, () => {
      const { N, C, S, x, gamma, beta, dy } = inputs(shape, shape.length + groups);
      const [x64, g64, b64] = [Float64Array.from(x), Float64Array.from(gamma), Float64Array.from(beta)];
      const loss = (xs: Vec, g: Vec, b: Vec) => dot(dy, groupNormRef(xs, affine ? g : undefined, affine ? b : undefined, N, C, S, groups, EPS).y);
      const ref = groupNormBackwardRef(dy, x, affine ? gamma : undefined, N, C, S, groups, EPS);
      const fd = { atol: 1e-7, rtol: 1e-6 };
      expectAllClose(ref.dx, numericGrad((v) => loss(v, g64, b64), x64), fd, 'dx');
      if (affine) {
        expectAllClose(ref.dgamma, numericGrad((v) => loss(x64, v, b64), g64), fd, 'dγ');
        expectAllClose(ref.dbeta, numericGrad((v) => loss(x64, g64, v), b64), fd, 'dβ');
      }
    });
  }
});

interface Case {
  shape: number[];
  groups: number | 'instance';
  affine?: boolean;
  offset?: number;
}

const cases: Case[] = [
  { shape: [2, 6, 5, 7], groups: 3 },
  { shape: [1, 17, 9, 9], groups: 17 },
  { shape: [3, 17, 4, 4], groups: 'instance' }, // InstanceNorm2d: G = C, no affine
  { shape: [4, 3, 11], groups: 1 },
  { shape: [5, 12], groups: 4 }, // no spatial dims
  { shape: [2, 8, 3, 3], groups: 2, affine: false },
  { shape: [3, 16, 10, 10], groups: 4, offset: 300 },
  { shape: [2, 64, 33, 33], groups: 8 },
  { shape: [128, 16, 28, 28], groups: 4 }, // GroupNorm(4, 16) at MNIST-CNN size
];

function groupNormGraph(shape: number[], groups: number, affine: boolean) {
  const g = new Graph();
  const x = g.tensor(shape, 'activation', 'x');
  const params = affine ? [g.tensor([shape[1]], 'param', 'gn.weight'), g.tensor([shape[1]], 'param', 'gn.bias')] : [];
  const [y, mean, rstd] = g.add('group_norm', [x, ...params], { groups, eps: EPS });
  return { g, x, params, y, mean, rstd };
}

describe('group norm kernels, as lowered', () => {
  for (const [splitName, split] of SPLITS) {
    for (const { shape, groups: groupsSpec, affine: affineSpec, offset = 0 } of cases) {
      const instance = groupsSpec === 'instance';
      const groups = instance ? shape[1] : groupsSpec;
      const affine = affineSpec ?? !instance;
      it(`${splitName} split [${shape}] ${instance ? 'instance norm' : `G=${groups}`}${affine ? '' : ' no affine'}${offset ? ` offset ${offset}` : ''}: forward and backward`, async () => {
        const { N, C, S, x, gamma, beta, dy } = inputs(shape, shape.reduce((a, b) => a * 17 + b, groups), offset);
        const gn = groupNormGraph(shape, groups, affine);
        const values = new Map<Tensor, HostArray>([[gn.x, x]]);
        if (affine) values.set(gn.params[0], gamma).set(gn.params[1], beta);
        const forward = await runNode(gn.g.nodes[0], values, split);
        const fwdRun = longestRun(gn.g.nodes[0], split);
        expect(forward.dispatches).toBe(1);
        expect(gn.mean.shape).toEqual([N, groups]);
        const ref = groupNormRef(x, affine ? gamma : undefined, affine ? beta : undefined, N, C, S, groups, EPS);
        const length = (C / groups) * S;
        const R = conditioning(ref);
        expectAllClose(forward.written.get(gn.y)!, ref.y, normOutputTolerance(length, R, affine ? 2 : 1, fwdRun), 'y');
        expectAllClose(forward.written.get(gn.mean)!, ref.mean, normOutputTolerance(length, R, 4, fwdRun), 'mean');
        expectAllClose(forward.written.get(gn.rstd)!, ref.rstd, rstdTolerance(length, R, fwdRun), 'rstd');

        const dyt = gn.g.tensor(shape, 'activation', 'dy');
        const grads = gn.g.add('group_norm_grad', [dyt, gn.x, gn.mean, gn.rstd, ...gn.params.slice(0, 1)], { groups });
        const inputsOfGrad = new Map<Tensor, HostArray>([[dyt, dy], [gn.x, x], [gn.mean, forward.written.get(gn.mean)!], [gn.rstd, forward.written.get(gn.rstd)!]]);
        if (affine) inputsOfGrad.set(gn.params[0], gamma);
        const backward = await runNode(gn.g.nodes[1], inputsOfGrad, split);
        const bwdRun = longestRun(gn.g.nodes[1], split);
        expect(backward.dispatches).toBe(affine ? 2 : 1);
        const refGrads = groupNormBackwardRef(dy, x, affine ? gamma : undefined, N, C, S, groups, EPS);
        const scale = (affine ? maxAbs(gamma) : 1) * maxAbs(ref.rstd) * maxAbs(dy);
        expectAllClose(backward.written.get(grads[0])!, refGrads.dx, normInputGradTolerance(length, R, scale, bwdRun), 'dx');
        if (affine) {
          // dγ, dβ sum over n and the plane: N·S elements per channel.
          expectAllClose(backward.written.get(grads[1])!, refGrads.dgamma, normParamGradTolerance(N * S, R, maxAbs(dy), bwdRun), 'dγ');
          expectAllClose(backward.written.get(grads[2])!, refGrads.dbeta, normParamGradTolerance(N * S, 0, maxAbs(dy), bwdRun), 'dβ');
        }
      });
    }
  }

  it('is deterministic: a rerun is bitwise identical', async () => {
    const shape = [4, 16, 12, 12];
    const { x, gamma, beta, dy } = inputs(shape, 3, 300);
    const runOnce = async () => {
      const gn = groupNormGraph(shape, 4, true);
      const f = await runNode(gn.g.nodes[0], new Map<Tensor, HostArray>([[gn.x, x], [gn.params[0], gamma], [gn.params[1], beta]]));
      const dyt = gn.g.tensor(shape, 'activation', 'dy');
      const grads = gn.g.add('group_norm_grad', [dyt, gn.x, gn.mean, gn.rstd, gn.params[0]], { groups: 4 });
      const b = await runNode(gn.g.nodes[1], new Map<Tensor, HostArray>([[dyt, dy], [gn.x, x], [gn.mean, f.written.get(gn.mean)!], [gn.rstd, f.written.get(gn.rstd)!], [gn.params[0], gamma]]));
      return [f.written.get(gn.y)!, ...grads.map((t) => b.written.get(t)!)].map((a) => [...new Uint32Array(a.buffer)]);
    };
    expect(await runOnce()).toEqual(await runOnce());
  });

  it('shape rules: groups must divide the channels; γ, β are per channel; both or neither', () => {
    const g = new Graph();
    const x = g.tensor([2, 6, 4, 4], 'activation', 'x');
    expect(() => g.add('group_norm', [x], { groups: 4 })).toThrow(ShapeError);
    expect(() => g.add('group_norm', [x], { groups: 4 })).toThrow(/group_norm.*num_groups 4.*6 channels.*x \[2, 6, 4, 4\]/);
    const wrong = g.tensor([4], 'param', 'gn.weight');
    expect(() => g.add('group_norm', [x, wrong, wrong], { groups: 3 })).toThrow(/gn\.weight \[4\] must have shape \[6\]/);
    expect(() => g.add('group_norm', [x, g.tensor([6], 'param', 'w')], { groups: 3 })).toThrow(/x alone or x, γ, β/);
    expect(g.nodes).toHaveLength(0);
  });
});
