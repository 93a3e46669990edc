/**
 * The optimizer kernel's adaptive modes (Adagrad, RMSProp, Adam, AdamW) over 240 chained steps on an arena
 * of 1,025 vec4s (five 256-wide workgroups, the last holding one vec4), part of it decayed:
 *  - every step from the GPU's own previous state against the float64 step from that same state
 *    (adaptiveStepTolerance: one step's float32 error, so a wrong step anywhere shows, however small its
 *    effect on the trajectory), weights and both states;
 *  - the whole trajectory against an independent float64 run from the start (its error bound grows with the
 *    step count: the sum of the per-step bounds).
 * 240 steps cross the switch of one_minus_pow (optimizer.wgsl) from its Taylor series to exp for β₂ = 0.999:
 * t·ln β₂ passes −0.1 at t = 100. Hyperparameters are packed by the engine's own optimizerHyper, as the
 * trainer does.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { grid1d } from '../../src/kernels/kernel';
import { GPU_GRAD_NORM, gradChunkCount, optimizerHyper, resolveOptimizer, slotTable } from '../../src/optim/optimizer';
import { compareElementwise, describeComparison, maxAbs, type Tolerance } from '../helpers/compare';
import { randomArray, runKernel, stepArg } from '../helpers/gpu';
import { chunkPartials, newParam, oneSlot, optimizerStep, type RefOptimizer, type RefParam } from '../helpers/optim_reference';
import { adaptiveStepTolerance } from '../tolerances';

const COUNT = 4100; // floats: 1,025 vec4s
const DECAYED = 2048; // the first 2,048 floats are "weights" (decayed), the rest "biases"
const STEPS = 240;
const KERNEL = { adagrad: 1, rmsprop: 2, adam: 3, adamw: 3 } as const;

interface State {
  w: Float32Array;
  s1: Float32Array;
  s2: Float32Array;
}

/** One step, `run` vec4s an invocation (1 on GPUs, 4 on CPU adapters: src/optim/optimizer.ts). */
async function gpuStep(o: RefOptimizer & { name: keyof typeof KERNEL }, state: State, g: Float32Array, t: number, run: number): Promise<State> {
  const hyper = new Uint32Array(optimizerHyper(resolveOptimizer(o)));
  const [w, s1, s2] = (await runKernel(
    'optimizer',
    { OPTIMIZER: KERNEL[o.name], VEC4_RUN: run },
    [
      { data: g },
      { data: chunkPartials(g, oneSlot(COUNT)) },
      { output: COUNT, initial: state.w },
      { output: COUNT, initial: state.s1 },
      { output: COUNT, initial: state.s2 },
      { output: 5, initial: new Float32Array(5) },
      { data: slotTable(oneSlot(COUNT)) },
      { data: hyper, uniform: true },
      stepArg({ step: t - 1, batch_start: 0, seed: 0, mix_lambda: 1, lr: o.lr }),
    ],
    { count: COUNT / 4, decay_count: DECAYED / 4, slot_count: 1, chunk_count: gradChunkCount(oneSlot(COUNT), GPU_GRAD_NORM.chunkVec4), chunk_vec4: GPU_GRAD_NORM.chunkVec4 },
    grid1d(Math.ceil(COUNT / 4 / run), 256),
  )) as Float32Array[];
  return { w, s1, s2 };
}

/** The arena as the reference sees it: weights (decayed) then biases, in float64. */
function toParams(state: State): RefParam[] {
  const part = (a: Float32Array, lo: number, hi: number) => Float64Array.from(a.subarray(lo, hi));
  return [
    { ...newParam(state.w.subarray(0, DECAYED), true), s1: part(state.s1, 0, DECAYED), s2: part(state.s2, 0, DECAYED) },
    { ...newParam(state.w.subarray(DECAYED), false), s1: part(state.s1, DECAYED, COUNT), s2: part(state.s2, DECAYED, COUNT) },
  ];
}

const flat = (params: RefParam[], key: 'w' | 's1' | 's2') => Float64Array.from([...params[0][key], ...params[1][key]]);
const grads = (g: Float32Array) => [g.subarray(0, DECAYED), g.subarray(DECAYED)];

const cases: (RefOptimizer & { name: keyof typeof KERNEL })[] = [
  { name: 'adagrad', lr: 0.05 },
  { name: 'rmsprop', lr: 0.01, rho: 0.9 },
  { name: 'adam', lr: 0.01 },
  { name: 'adamw', lr: 0.01, weightDecay: 0.1 },
  { name: 'adam', lr: 0.005, beta1: 0.8, beta2: 0.99 },
  { name: 'rmsprop', lr: 0.003, rho: 0.95, weightDecay: 0.05, decay: 'decoupled' },
];
// Coupled (L2, L1) decay is left to test/optim/optimizers.test.ts: g + λ·w cancels in some elements, and a
// cancelled gradient's float32 error is relative to λ·|w|, not to the gradient — one step's bound would then
// depend on each element's cancellation, which a single tolerance cannot state.

describe(`adaptive optimizers: ${STEPS} steps on ${COUNT / 4} vec4s vs float64`, () => {
  // Runs of 4: the last invocation holds the arena's one remaining vec4.
  for (const run of [1, 4]) {
    for (const o of cases) {
      it(`${run} vec4 an invocation: ${o.name} lr=${o.lr}${o.weightDecay ? ` ${o.decay ?? 'default'} decay ${o.weightDecay}` : ''}${o.beta2 ? ` β=${o.beta1},${o.beta2}` : ''}`, async () => {
        const rng = new Rng(STEPS + o.lr * 1e4 + (o.weightDecay ?? 0) * 100);
        // Weights of the order of a few steps (|w| ≤ 4·lr), so w's own rounding (u·|w|) stays below the float32
        // error of the update lr·d and a wrong update is visible in a single step.
        const w0 = randomArray(COUNT, rng, 4 * o.lr);
        let state: State = { w: w0, s1: new Float32Array(COUNT), s2: new Float32Array(COUNT) };
        // Gradients of varied size per element (0.01 to 1), so √v̂ spans two orders of magnitude.
        const size = Float32Array.from({ length: COUNT }, () => 10 ** (-2 * rng.nextFloat()));
        const independent = toParams(state);
        const failures: string[] = [];
        const worst: Record<string, number> = {};
        const check = (what: string, t: number, actual: Float32Array, expected: Float64Array, tol: Tolerance) => {
          const c = compareElementwise(actual, expected, tol);
          worst[what] = Math.max(worst[what] ?? 0, c.ratio);
          if (!c.ok) failures.push(describeComparison(c, tol, `step ${t} ${what}`));
        };
        let trajectoryBound = 0;
        for (let t = 1; t <= STEPS; t++) {
          const g = Float32Array.from(randomArray(COUNT, rng), (v, i) => v * size[i]);
          const next = await gpuStep(o, state, g, t, run);
          // The float64 step from the GPU's own previous state.
          const fromState = toParams(state);
          optimizerStep(fromState, grads(g), o, t);
          const w = flat(fromState, 'w');
          const dScale = maxAbs(Float64Array.from(w, (v, i) => (state.w[i] - v) / o.lr));
          const tol = adaptiveStepTolerance(o.name, { lr: o.lr, t, dScale, mScale: maxAbs(state.s1), gScale: maxAbs(g), beta1: o.beta1, weightDecay: o.weightDecay });
          check('weights', t, next.w, w, tol.w);
          check('state1', t, next.s1, flat(fromState, 's1'), tol.s1);
          if (o.name === 'adam' || o.name === 'adamw') check('state2', t, next.s2, flat(fromState, 's2'), tol.s2);
          else expect([...next.s2], 'state2 is Adam-only').toEqual([...state.s2]);
          // The independent run and its bound: every step's error adds to the weights (w rounding is relative).
          optimizerStep(independent, grads(g), o, t);
          trajectoryBound += tol.w.atol + tol.w.rtol * maxAbs(w);
          state = next;
        }
        const drift = compareElementwise(state.w, flat(independent, 'w'), { atol: trajectoryBound, rtol: 0 });
        if (process.env.TOLERANCE_LOG) console.log(`[tolerance] ${o.name}: worst per-step ratios ${JSON.stringify(worst)}; trajectory ${drift.ratio.toPrecision(3)}`);
        expect(failures.slice(0, 5), `${failures.length} of ${3 * STEPS} per-step comparisons failed`).toEqual([]);
        expect(drift.ok, describeComparison(drift, { atol: trajectoryBound, rtol: 0 }, `weights after ${STEPS} steps vs the independent float64 run`)).toBe(true);
        // The weights travelled far beyond the tolerances (a no-op kernel would fail above; this says so plainly).
        expect(maxAbs(Float64Array.from(state.w, (v, i) => v - w0[i]))).toBeGreaterThan(1000 * trajectoryBound);
      });
    }
  }
});
