/**
 * shaders/conv2d.wgsl (both variants, all three computations) and partial_sum.wgsl against the float64
 * references of test/helpers/conv_reference.ts, on fresh random inputs in [−1, 1], with outputs poisoned
 * (NaN) first. Params and workgroup counts come from src/kernels/conv.ts, the same functions the lowering
 * uses. Tolerances: dotTolerance(K) with K the reduction length of the computation (Ci·KH·KW forward,
 * Co·KH·KW for the input gradient, N·OH·OW for the weight gradient), dotEpilogueTolerance with an
 * activation epilogue.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { activationKinds, type ActivationName } from '../../src/graph/ops';
import { convTaps, convWeightGradSplits, type ConvGeometry } from '../../src/graph/ops_conv';
import { convConstants, convKernelName, convParams, convVariantFits, convWorkgroups, type ConvComputation, type ConvVariant } from '../../src/kernels/conv';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose } from '../helpers/compare';
import { conv2dGradInputRef, conv2dGradWeightRef, conv2dRef, geometry } from '../helpers/conv_reference';
import { randomArray, runKernel, type HostArray } from '../helpers/gpu';
import { activateGradRef, activateRef, savedForGrad } from '../helpers/reference';
import { dotEpilogueTolerance, dotTolerance } from '../tolerances';

interface Case {
  name: string;
  input: [number, number, number, number];
  weight: [number, number, number, number];
  hyper?: { strideH?: number; strideW?: number; padH?: number; padW?: number };
}

// Odd sizes, channel counts off every block and tile (3, 5, 17, 33), batch 1, strides 2, asymmetric
// strides and padding, 1×1 kernels, a kernel wider than the unpadded input, MNIST's two layers, one large case.
const cases: Case[] = [
  { name: 'batch 1, 3→5, 7×9, k3 pad 1', input: [1, 3, 7, 9], weight: [5, 3, 3, 3], hyper: { padH: 1, padW: 1 } },
  { name: '5→17, 11×10, k3 stride 2 pad 1', input: [2, 5, 11, 10], weight: [17, 5, 3, 3], hyper: { strideH: 2, strideW: 2, padH: 1, padW: 1 } },
  { name: '17→33, 6×7, 1×1', input: [3, 17, 6, 7], weight: [33, 17, 1, 1] },
  { name: '33→3, 9×8, 1×1 stride 2', input: [2, 33, 9, 8], weight: [3, 33, 1, 1], hyper: { strideH: 2, strideW: 2 } },
  { name: '3→5, 5×6, k3×2, strides 2×1, pads 0×1', input: [4, 3, 5, 6], weight: [5, 3, 3, 2], hyper: { strideH: 2, strideW: 1, padW: 1 } },
  { name: '2→3, 3×3, k5 pad 2 (kernel wider than the input)', input: [2, 2, 3, 3], weight: [3, 2, 5, 5], hyper: { padH: 2, padW: 2 } },
  { name: '1→4, 2×2, k3 stride 3 pad 1', input: [3, 1, 2, 2], weight: [4, 1, 3, 3], hyper: { strideH: 3, strideW: 3, padH: 1, padW: 1 } },
  // Every kernel width the window weight gradient specialises for (WINDOW_KW): 1, 2, 3, 5 above, 4, 7, 8 here.
  { name: '2→6, 6×9, k2×4 pad 0×1', input: [3, 2, 6, 9], weight: [6, 2, 2, 4], hyper: { padW: 1 } },
  { name: '3→5, 5×11, k3×7 pad 1×3', input: [2, 3, 5, 11], weight: [5, 3, 3, 7], hyper: { padH: 1, padW: 3 } },
  { name: '1→7, 4×10, k1×8', input: [2, 1, 4, 10], weight: [7, 1, 1, 8] },
  { name: 'MNIST conv1: 8 × 1→16, 28×28, k5 pad 2', input: [8, 1, 28, 28], weight: [16, 1, 5, 5], hyper: { padH: 2, padW: 2 } },
  { name: 'MNIST conv2: 4 × 16→32, 14×14, k5', input: [4, 16, 14, 14], weight: [32, 16, 5, 5] },
];
const large: Case = { name: 'large: 32 × 16→32, 14×14, k5 pad 2', input: [32, 16, 14, 14], weight: [32, 16, 5, 5], hyper: { padH: 2, padW: 2 } };

const variants: ConvVariant[] = ['blocked', 'window', 'tiled'];
const dummy = () => ({ data: new Float32Array(4) });

async function conv(variant: ConvVariant, computation: ConvComputation, g: ConvGeometry, args: [HostArray, HostArray, HostArray | undefined], outputs: number, options: { bias?: boolean; act?: number; actGrad?: number; alpha?: number; splits?: number } = {}) {
  const [a, b, e] = args;
  const [out] = await runKernel(
    convKernelName(variant, computation),
    convConstants(variant, computation, g, options),
    [{ data: a }, { data: b }, e ? { data: e } : dummy(), { output: outputs }],
    convParams(g, options.splits ?? 1, options.alpha ?? 0),
    convWorkgroups(variant, computation, g, options.splits ?? 1, !!options.bias),
  );
  return out as Float32Array;
}

/** The weight gradient's two passes: partial sums, then partial_sum.wgsl; returns dw and db. */
async function gradWeight(variant: ConvVariant, g: ConvGeometry, dy: Float32Array, x: Float32Array, bias: boolean, splits: number) {
  const k = convTaps(g);
  const width = g.outChannels * k + (bias ? g.outChannels : 0);
  const partials = await conv(variant, 'grad_weight', g, [dy, x, undefined], splits * width, { bias, splits });
  const [dw, db] = await runKernel(
    'partialSum',
    {},
    [{ data: partials }, { output: g.outChannels * k }, bias ? { output: g.outChannels } : dummy()],
    { splits, count_a: g.outChannels * k, count_b: bias ? g.outChannels : 0 },
    grid1d(width, 64),
  );
  return { dw: dw as Float32Array, db: db as Float32Array | undefined, partials };
}

function setup(c: Case, seed: number) {
  const g = geometry(c.input, c.weight, c.hyper);
  const rng = new Rng(seed);
  const x = randomArray(c.input.reduce((p, d) => p * d, 1), rng);
  const w = randomArray(c.weight.reduce((p, d) => p * d, 1), rng);
  const bias = randomArray(g.outChannels, rng);
  const dy = randomArray(g.batch * g.outChannels * g.outH * g.outW, rng);
  return { g, x, w, bias, dy, rng };
}

const actKinds: ActivationName[] = ['relu', 'tanh', 'gelu', 'silu'];

describe('conv2d forward vs float64', () => {
  for (const variant of variants) {
    for (const [index, c] of [...cases, large].entries()) {
      const fits = convVariantFits(variant, 'forward', setup(c, 0).g);
      it.runIf(fits)(`${variant}: ${c.name}`, async () => {
        const { g, x, w, bias } = setup(c, 10 + index);
        const tol = dotTolerance(convTaps(g));
        const size = g.batch * g.outChannels * g.outH * g.outW;
        expectAllClose(await conv(variant, 'forward', g, [x, w, undefined], size), conv2dRef(x, w, undefined, g), tol, 'y');
        expectAllClose(await conv(variant, 'forward', g, [x, w, bias], size, { bias: true }), conv2dRef(x, w, bias, g), tol, 'y + bias');
      });
    }

    it(`${variant}: bias + activation epilogues (${actKinds.join(', ')}, leaky_relu with alpha)`, async () => {
      const c = cases[0];
      const { g, x, w, bias } = setup(c, 99);
      const size = g.batch * g.outChannels * g.outH * g.outW;
      const z = conv2dRef(x, w, bias, g);
      for (const [kind, alpha] of [...actKinds.map((k) => [k, 0] as const), ['leaky_relu', 0.2] as const]) {
        const y = await conv(variant, 'forward', g, [x, w, bias], size, { bias: true, act: activationKinds[kind], alpha });
        expectAllClose(y, z.map((v) => activateRef(v, kind, alpha)), dotEpilogueTolerance(convTaps(g)), `${kind}(conv + bias)`);
      }
    });
  }
});

describe('conv2d input gradient vs float64', () => {
  for (const variant of variants) {
    for (const [index, c] of [...cases, large].entries()) {
      const fits = convVariantFits(variant, 'grad_input', setup(c, 0).g);
      it.runIf(fits)(`${variant}: ${c.name}`, async () => {
        const { g, w, dy } = setup(c, 20 + index);
        const size = g.batch * g.inChannels * g.inH * g.inW;
        const dx = await conv(variant, 'grad_input', g, [dy, w, undefined], size);
        expectAllClose(dx, conv2dGradInputRef(dy, w, g), dotTolerance(g.outChannels * g.kernelH * g.kernelW), 'dx');
      });
    }

    it(`${variant}: activation-gradient epilogue (${actKinds.join(', ')})`, async () => {
      for (const c of [cases[0], cases[1], cases[4]].filter((k) => convVariantFits(variant, 'grad_input', setup(k, 0).g))) {
        const { g, w, dy, rng } = setup(c, 77);
        const size = g.batch * g.inChannels * g.inH * g.inW;
        const ref = conv2dGradInputRef(dy, w, g);
        const pre = randomArray(size, rng, 3); // the previous layer's pre-activations
        for (const kind of actKinds) {
          const v = savedForGrad(pre, kind, 0); // y, or x for GELU/SiLU
          const dx = await conv(variant, 'grad_input', g, [dy, w, v], size, { actGrad: activationKinds[kind] });
          expectAllClose(dx, ref.map((d, i) => d * activateGradRef(pre[i], kind, 0)), dotEpilogueTolerance(g.outChannels * g.kernelH * g.kernelW), `dx·${kind}' (${c.name})`);
        }
      }
    });
  }
});

describe('conv2d weight and bias gradients (partial sums + partial_sum) vs float64', () => {
  for (const variant of variants) {
    for (const [index, c] of [...cases, large].entries()) {
      it.runIf(convVariantFits(variant, 'grad_weight', setup(c, 0).g))(`${variant}: ${c.name}`, async () => {
        const { g, x, dy } = setup(c, 30 + index);
        const ref = conv2dGradWeightRef(dy, x, g);
        const tol = dotTolerance(g.batch * g.outH * g.outW);
        const splits = convWeightGradSplits(g, true);
        const withBias = await gradWeight(variant, g, dy, x, true, splits);
        expectAllClose(withBias.dw, ref.dw, tol, `dw (${splits} splits)`);
        expectAllClose(withBias.db!, ref.db, tol, `db (${splits} splits)`);
        const single = await gradWeight(variant, g, dy, x, false, 1);
        expectAllClose(single.dw, ref.dw, tol, 'dw (1 split, no bias)');
      });
    }
  }

  it('split counts that leave the last split short or empty; every split is written', async () => {
    const c = cases[0]; // 1 × 7 output rows
    const { g, x, dy } = setup(c, 41);
    const ref = conv2dGradWeightRef(dy, x, g);
    for (const splits of [2, 3, 4, 6, 7]) {
      // 7 rows: 2 splits of 4 and 3 rows; 6 splits of 2 rows leave the last three empty.
      for (const variant of variants) {
        const { dw, db, partials } = await gradWeight(variant, g, dy, x, true, splits);
        expect(partials.every(Number.isFinite), `${variant} ${splits} splits: partials all written`).toBe(true);
        const tol = dotTolerance(g.batch * g.outH * g.outW);
        expectAllClose(dw, ref.dw, tol, `${variant} dw, ${splits} splits`);
        expectAllClose(db!, ref.db, tol, `${variant} db, ${splits} splits`);
      }
    }
  });
});

describe('conv2d kernels: determinism and bounds', () => {
  it('the same inputs give bitwise-identical outputs run to run (every computation, both variants)', async () => {
    const { g, x, w, bias, dy } = setup(cases[7], 5);
    const size = g.batch * g.outChannels * g.outH * g.outW;
    const splits = convWeightGradSplits(g, true);
    for (const variant of variants) {
      const runs = async () => [
        await conv(variant, 'forward', g, [x, w, bias], size, { bias: true, act: activationKinds.relu }),
        await conv(variant, 'grad_input', g, [dy, w, undefined], x.length),
        (await gradWeight(variant, g, dy, x, true, splits)).dw,
      ];
      const [first, second] = [await runs(), await runs()];
      first.forEach((out, i) => expect(out.every((v, j) => Object.is(v, second[i][j])), `${variant} computation ${i}`).toBe(true));
    }
  });

  it('never writes past the output', async () => {
    const c = cases[4];
    const { g, x, w, dy } = setup(c, 6);
    const sizes: [ConvComputation, number, [HostArray, HostArray]][] = [
      ['forward', g.batch * g.outChannels * g.outH * g.outW, [x, w]],
      ['grad_input', x.length, [dy, w]],
      ['grad_weight', g.outChannels * convTaps(g), [dy, x]],
    ];
    for (const variant of variants) {
      for (const [computation, size, [a, b]] of sizes.filter(([computation]) => convVariantFits(variant, computation, g))) {
        const sentinel = new Float32Array(size + 64).fill(777);
        const [out] = await runKernel(
          convKernelName(variant, computation),
          convConstants(variant, computation, g),
          [{ data: a }, { data: b }, dummy(), { output: size + 64, initial: sentinel }],
          convParams(g),
          convWorkgroups(variant, computation, g),
        );
        expect([...out.slice(size)].every((v) => v === 777), `${variant} ${computation}`).toBe(true);
        expect(out.slice(0, size).every((v) => v !== 777), `${variant} ${computation} writes every element`).toBe(true);
      }
    }
  });
});
