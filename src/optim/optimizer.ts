/**
 * Optimizers as GPU kernels over the parameter arena: a gradient-norm pass (one workgroup per parameter,
 * for clipping and diagnostics) and one update dispatch for every parameter. Hyperparameters live in a
 * small uniform that the trainer rewrites when the learning rate changes; nothing is read back.
 */
import { ConfigError } from '../errors';
import { optimizerHyperLayout } from '../kernels/catalog';
import { grid1d } from '../kernels/kernel';
import { adapterKindOf } from '../gpu/adapter_kind';
import type { LoweredDispatch } from '../kernels/lower';
import type { ExternalBuffer } from '../graph/graph';
import type { ParameterArena } from '../nn/parameters';

export const optimizerNames = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof optimizerNames)[number];

export type DecayMode = 'l2' | 'l1' | 'decoupled';

export interface OptimizerOptions {
  /** Default 'momentum' when `momentum` is given, else 'sgd'. */
  name?: OptimizerName;
  lr: number;
  /** SGD momentum μ (default 0.9 for 'momentum' and 'nesterov'). */
  momentum?: number;
  /** Adam β1 (0.9), β2 (0.999); RMSProp uses `rho` (0.9). */
  beta1?: number;
  beta2?: number;
  rho?: number;
  eps?: number;
  weightDecay?: number;
  /** How weight decay is applied (default: 'decoupled' for adamw, else 'l2'). Weights only, never biases. */
  decay?: DecayMode;
  /** Clip the global gradient norm to this value (0 or undefined: off). */
  clipNorm?: number;
  /** Clip every gradient element to [-clipValue, clipValue] (0 or undefined: off). */
  clipValue?: number;
}

/** The buffers the optimizer binds (made by src/train/training_state.ts). */
export interface OptimizerBuffers {
  params: ExternalBuffer;
  grads: ExternalBuffer;
  /** Per-parameter state: momentum or Adam's m (state1), Adam's v or the squared-gradient sums (state2). */
  state1: ExternalBuffer;
  state2: ExternalBuffer;
  /** Every slot's row (`slotTable`), grad_norm.wgsl's partial squared norms (`gradChunkCount` of them), and the epoch's accumulated statistics. */
  slots: ExternalBuffer;
  partials: ExternalBuffer;
  stats: ExternalBuffer;
  hyper: ExternalBuffer;
  step: ExternalBuffer;
}

const kernelIndex: Record<OptimizerName, number> = { sgd: 0, momentum: 0, nesterov: 0, adagrad: 1, rmsprop: 2, adam: 3, adamw: 3 };
const decayIndex: Record<DecayMode, number> = { l2: 1, l1: 2, decoupled: 3 };

export function checkLearningRate(lr: number): void {
  if (!Number.isFinite(lr) || lr <= 0) throw new ConfigError(`The learning rate must be a positive finite number; got ${lr}.`);
}

export function resolveOptimizer(options: OptimizerOptions): Required<OptimizerOptions> {
  const name = options.name ?? (options.momentum ? 'momentum' : 'sgd');
  if (!optimizerNames.includes(name)) throw new ConfigError(`Unknown optimizer '${name}'. Expected one of: ${optimizerNames.join(', ')}.`);
  checkLearningRate(options.lr);
  const resolved: Required<OptimizerOptions> = {
    name,
    lr: options.lr,
    momentum: options.momentum ?? (name === 'momentum' || name === 'nesterov' ? 0.9 : 0),
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    rho: options.rho ?? 0.9,
    eps: options.eps ?? (name === 'adagrad' || name === 'rmsprop' ? 1e-10 : 1e-8),
    weightDecay: options.weightDecay ?? 0,
    decay: options.decay ?? (name === 'adamw' ? 'decoupled' : 'l2'),
    clipNorm: options.clipNorm ?? 0,
    clipValue: options.clipValue ?? 0,
  };
  const inUnit = (v: number, what: string, open = false) => {
    if (!(v >= 0 && (open ? v < 1 : v <= 1))) throw new ConfigError(`${what} must be in [0, 1${open ? ')' : ']'}; got ${v}.`);
  };
  inUnit(resolved.momentum, 'momentum', true);
  inUnit(resolved.beta1, 'beta1', true);
  inUnit(resolved.beta2, 'beta2', true);
  inUnit(resolved.rho, 'rho', true);
  for (const [key, value] of [['eps', resolved.eps], ['weightDecay', resolved.weightDecay], ['clipNorm', resolved.clipNorm], ['clipValue', resolved.clipValue]] as const) {
    if (!(value >= 0) || !Number.isFinite(value)) throw new ConfigError(`${key} must be a finite number ≥ 0; got ${value}.`);
  }
  if (!(resolved.decay in decayIndex)) throw new ConfigError(`Unknown weight decay mode '${resolved.decay}'. Expected l2, l1 or decoupled.`);
  return resolved;
}

/** The Hyper uniform for these options (the learning rate is a per-step value, in the Step uniform). */
export function optimizerHyper(options: Required<OptimizerOptions>): ArrayBuffer {
  const adam = options.name === 'adam' || options.name === 'adamw';
  const beta1 = adam ? options.beta1 : options.momentum;
  const beta2 = options.name === 'rmsprop' ? options.rho : options.beta2;
  return optimizerHyperLayout.pack({
    beta1,
    beta2,
    // From the f32 value of β, so the kernel's 1 − βᵗ matches the β it multiplies with.
    log_beta1: beta1 > 0 ? Math.log(Math.fround(beta1)) : 0,
    log_beta2: beta2 > 0 ? Math.log(Math.fround(beta2)) : 0,
    eps: options.eps,
    weight_decay: options.weightDecay,
    decay_mode: options.weightDecay > 0 ? decayIndex[options.decay] : 0,
    clip_norm: options.clipNorm,
    clip_value: options.clipValue,
    nesterov: options.name === 'nesterov' ? 1 : 0,
  });
}

/**
 * How the optimizer treats one parameter slot (src/train/transfer.ts): its learning rate is the step's
 * times `lrScale` (0: frozen, no update at all), and Adam's bias correction counts from `firstStep`.
 */
export interface SlotUpdate {
  lrScale: number;
  firstStep: number;
}

const trainEverySlot: SlotUpdate = { lrScale: 1, firstStep: 0 };

/**
 * Four u32 per parameter slot, for the gradient-norm and optimizer kernels: offset and size in floats,
 * the learning-rate scale (f32 bits) and the first step. Default: every slot trains at the step's rate.
 */
export function slotTable(arena: ParameterArena, updates?: readonly SlotUpdate[]): Uint32Array<ArrayBuffer> {
  const scale = new Float32Array(1);
  const bits = new Uint32Array(scale.buffer);
  return Uint32Array.from(
    arena.slots.flatMap((s, i) => {
      const update = updates?.[i] ?? trainEverySlot;
      scale[0] = update.lrScale;
      return [s.offset, s.size, bits[0], update.firstStep];
    }),
  );
}

/** How grad_norm.wgsl cuts the arena: invocations per workgroup, and vec4s per chunk (one workgroup each). */
export interface GradNormSplit {
  workgroup: number;
  chunkVec4: number;
  /** vec4s each optimizer invocation updates, a contiguous run (1, 2 or 4: divisors of a slot's 16-vec4 alignment). */
  optimizerRun: number;
}

/**
 * GPUs: 256 invocations a workgroup, four vec4s each, so a big slot fills many workgroups; the optimizer
 * one vec4 an invocation, neighbours reading neighbours.
 */
export const GPU_GRAD_NORM: GradNormSplit = { workgroup: 256, chunkVec4: 1024, optimizerRun: 1 };
/**
 * CPU implementations of WebGPU: one 64-invocation workgroup a slot, as few barrier rounds as can be (each
 * costs a thread synchronisation there; measured on SwiftShader, 784-128-64-10 at batch 128: 0.8 ms against
 * 14.9 ms for the GPU split's 30 workgroups of 256). The optimizer takes four vec4s an invocation, which
 * spreads its per-invocation work (slot search, norm) over four updates: 2.0 ms against 3.3–3.6 ms for one.
 */
export const CPU_GRAD_NORM: GradNormSplit = { workgroup: 64, chunkVec4: 2 ** 30, optimizerRun: 4 };

export function gradNormSplit(adapterName: string): GradNormSplit {
  return adapterKindOf(adapterName) === 'cpu' ? CPU_GRAD_NORM : GPU_GRAD_NORM;
}

/**
 * The gradient-norm pass's chunks, one workgroup (and one partial sum) each: every slot cut into runs of
 * `chunkVec4` vec4s, at least one per slot, as shaders/grad_chunks.wgsl counts them.
 */
export function gradChunkCount(arena: ParameterArena, chunkVec4: number): number {
  return arena.slots.reduce((n, s) => n + Math.max(1, Math.ceil(Math.ceil(s.size / 4) / chunkVec4)), 0);
}

/** Floats in the stats accumulator: per-slot norm sums, then global sum, steps, first bad step, max. */
export const statsLength = (arena: ParameterArena) => arena.slots.length + 4;

export function optimizerDispatches(arena: ParameterArena, options: Required<OptimizerOptions>, b: OptimizerBuffers, split: GradNormSplit): LoweredDispatch[] {
  const slots = arena.slots.length;
  const chunks = gradChunkCount(arena, split.chunkVec4);
  const ext = (external: ExternalBuffer) => ({ external });
  return [
    {
      kernel: 'gradNorm',
      constants: { WORKGROUP_SIZE: split.workgroup },
      operands: [ext(b.grads), ext(b.slots), ext(b.partials)],
      params: { slot_count: slots, chunk_count: chunks, chunk_vec4: split.chunkVec4 },
      workgroups: grid1d(chunks, 1),
    },
    {
      kernel: 'optimizer',
      constants: { OPTIMIZER: kernelIndex[options.name], VEC4_RUN: split.optimizerRun },
      operands: [ext(b.grads), ext(b.partials), ext(b.params), ext(b.state1), ext(b.state2), ext(b.stats), ext(b.slots), ext(b.hyper), ext(b.step)],
      // The kernel works in vec4s; the arena is a multiple of 64 floats, so both counts divide by 4.
      params: { count: arena.totalFloats / 4, decay_count: arena.decayFloats / 4, slot_count: slots, chunk_count: chunks, chunk_vec4: split.chunkVec4 },
      workgroups: grid1d(Math.ceil(arena.totalFloats / 4 / split.optimizerRun), 256),
    },
  ];
}
