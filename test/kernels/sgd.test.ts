/**
 * The optimizer kernel in its SGD mode (OPTIMIZER = 0: plain, momentum and Nesterov), run directly on
 * flat arrays for several chained steps against the float64 reference in test/helpers/optim_reference.ts.
 * The kernel works in vec4s: Params.count and Params.decay_count count vec4s (arena slots are 64-float
 * aligned), so every size here is a multiple of 4 floats. Weight decay must touch only the first
 * decay_count vec4s (weights sit before biases in the arena).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { optimizerHyperLayout } from '../../src/kernels/catalog';
import { GPU_GRAD_NORM, slotTable } from '../../src/optim/optimizer';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose, expectValueClose, maxAbs } from '../helpers/compare';
import { randomArray, runKernel, stepArg } from '../helpers/gpu';
import { normStatsTolerance, sgdTolerance } from '../tolerances';
import { chunkPartials, newParam, oneSlot, optimizerStep, type RefOptimizer } from '../helpers/optim_reference';

const decayModes = { l2: 1, l1: 2, decoupled: 3 } as const;

function hyper(o: RefOptimizer): Uint32Array {
  const beta1 = o.momentum ?? 0;
  return new Uint32Array(
    optimizerHyperLayout.pack({
      beta1,
      beta2: 0.999,
      eps: 1e-8,
      weight_decay: o.weightDecay ?? 0,
      decay_mode: o.weightDecay ? decayModes[o.decay ?? 'l2'] : 0,
      clip_norm: 0,
      clip_value: 0,
      nesterov: o.name === 'nesterov' ? 1 : 0,
      log_beta1: beta1 > 0 ? Math.log(Math.fround(beta1)) : 0,
      log_beta2: Math.log(Math.fround(0.999)),
    }),
  );
}

/**
 * Runs `steps` chained SGD steps on the GPU (a fresh gradient each step), `run` vec4s an invocation (1 on
 * GPUs, 4 on CPU adapters: src/optim/optimizer.ts); returns weights, velocity, stats.
 */
async function gpuSteps(o: RefOptimizer, w0: Float32Array, grads: Float32Array[], decayCount: number, run = 1) {
  const count = w0.length;
  expect(count % 4).toBe(0);
  let w: Float32Array = w0;
  let v: Float32Array = new Float32Array(count);
  let stats: Float32Array = new Float32Array(1 + 4);
  for (let t = 0; t < grads.length; t++) {
    const g = grads[t];
    // One slot holding everything: its chunks' squared norms, as grad_norm.wgsl would write them.
    const partials = chunkPartials(g, oneSlot(count));
    const outputs = await runKernel(
      'optimizer',
      { OPTIMIZER: 0, VEC4_RUN: run },
      [
        { data: g },
        { data: partials },
        { output: count, initial: w },
        { output: count, initial: v },
        { output: count }, // state2: unused by SGD, left poisoned
        { output: stats.length, initial: stats },
        { data: slotTable(oneSlot(count)) },
        { data: hyper(o), uniform: true },
        stepArg({ step: t, batch_start: 0, seed: 0, mix_lambda: 1, lr: o.lr }),
      ],
      { count: count / 4, decay_count: decayCount / 4, slot_count: 1, chunk_count: partials.length, chunk_vec4: GPU_GRAD_NORM.chunkVec4 },
      grid1d(Math.ceil(count / 4 / run), 256),
    );
    [w, v, , stats] = outputs as Float32Array[];
  }
  return { w, v, stats };
}

function refSteps(o: RefOptimizer, w0: Float32Array, grads: Float32Array[], decayCount: number) {
  const params = [newParam(w0.subarray(0, decayCount), true), newParam(w0.subarray(decayCount), false)];
  grads.forEach((g, t) => optimizerStep(params, [g.subarray(0, decayCount), g.subarray(decayCount)], o, t + 1));
  return { w: Float64Array.from([...params[0].w, ...params[1].w]), v: Float64Array.from([...params[0].s1, ...params[1].s1]) };
}

// (count, decay_count) in floats: one vec4; vec4 counts either side of the 256-wide workgroup (255, 257);
// decay on none / all / part; 70000 floats = 17500 vec4s (69 workgroups, the last partial). With runs of
// 4 vec4s: runs cut short by the end of the arena (5, 257 and 999 vec4s) and by decay_count (999).
const sizes: [number, number][] = [
  [4, 4],
  [20, 0],
  [1020, 1020],
  [1028, 512],
  [4000, 3996],
  [70000, 65536],
];

const optimizers: RefOptimizer[] = [
  { name: 'sgd', lr: 0.3 },
  { name: 'momentum', lr: 0.1, momentum: 0.9 },
  { name: 'nesterov', lr: 0.1, momentum: 0.8 },
  { name: 'momentum', lr: 0.05, momentum: 0.9, weightDecay: 0.1, decay: 'l2' },
  { name: 'nesterov', lr: 0.05, momentum: 0.5, weightDecay: 0.2, decay: 'l1' },
  { name: 'sgd', lr: 0.1, weightDecay: 0.3, decay: 'decoupled' },
];

const label = (o: RefOptimizer) => `${o.name} lr=${o.lr}${o.momentum ? ` μ=${o.momentum}` : ''}${o.weightDecay ? ` ${o.decay} λ=${o.weightDecay}` : ''}`;

describe('SGD optimizer kernel vs float64 reference, 4 chained steps', () => {
  for (const run of [1, 4]) {
    for (const o of optimizers) {
      for (const [count, decayCount] of sizes) {
        it(`${run} vec4 an invocation: ${label(o)} floats=${count} decayed=${decayCount}`, async () => {
          const rng = new Rng(count * 3 + decayCount);
          const w0 = randomArray(count, rng);
          const grads = Array.from({ length: 4 }, () => randomArray(count, rng, 0.5));
          const gpu = await gpuSteps(o, w0, grads, decayCount, run);
          const ref = refSteps(o, w0, grads, decayCount);
          const tol = sgdTolerance(4, o.lr, o.momentum ?? 0, 0.5, Math.max(maxAbs(w0), maxAbs(ref.w)), o.weightDecay ?? 0);
          expectAllClose(gpu.w, ref.w, tol.w, 'weights after 4 steps');
          if (o.momentum) expectAllClose(gpu.v, ref.v, tol.v, 'velocity after 4 steps');
          // stats: [slot norm sum, global norm sum, steps, first bad step, max norm].
          expectValueClose(gpu.stats[0], grads.map((g) => Math.sqrt(g.reduce((s, x) => s + x * x, 0))).reduce((a, b) => a + b), normStatsTolerance(4), 'slot norm sum');
          const norms = grads.map((g) => Math.sqrt(g.reduce((s, x) => s + x * x, 0)));
          expectValueClose(gpu.stats[1], norms.reduce((a, b) => a + b), normStatsTolerance(4), 'global norm sum');
          expect(gpu.stats[2]).toBe(4);
          expect(gpu.stats[3]).toBe(0);
          expectValueClose(gpu.stats[4], Math.max(...norms), normStatsTolerance(1), 'max global norm');
        });
      }
    }
  }

  for (const run of [1, 4]) {
    for (const decay of ['l2', 'l1', 'decoupled'] as const) {
      it(`${run} vec4 an invocation: ${decay} weight decay changes only the first decay_count elements`, async () => {
        const [count, decayCount] = [300, 196];
        const w0 = randomArray(count, new Rng(8));
        const zero = new Float32Array(count);
        const { w } = await gpuSteps({ name: 'momentum', lr: 0.1, momentum: 0.9, weightDecay: 0.5, decay }, w0, [zero, zero], decayCount, run);
        for (let i = 0; i < count; i++) {
          // With a zero gradient only decay can move a weight (L1 with momentum may overshoot past 0, so
          // only "moved" is asserted here; the amounts are checked against the reference above).
          if (i < decayCount) expect(w[i], `element ${i} decays`).not.toBe(w0[i]);
          else expect(w[i], `element ${i} is past decay_count`).toBe(w0[i]);
        }
      });
    }
  }
});
