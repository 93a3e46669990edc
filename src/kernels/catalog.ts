/** Every kernel the engine dispatches: module files, binding kinds in binding order, Params layout. */
import { convKernels } from './conv';
import type { Kernel } from './kernel';
import { blockKernelName, matmulBlockSizes, type BlockKernelName } from './matmul_variants';
import { normKernels } from './norm';
import { poolKernels } from './pool';
import type { ShaderFile } from './shaders';
import { UniformLayout } from './uniform';

const matmulParams = new UniformLayout('Params', [['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['alpha', 'f32']]);
const momentsParams = new UniformLayout('Params', [['count', 'u32'], ['chunk_len', 'u32'], ['chunks', 'u32']]);

/**
 * A kernel of the matmul family: act_fns.wgsl and matmul_common.wgsl (Params, constants, epilogue) before
 * its own file, and the family's bindings. The variants are listed in src/kernels/matmul_variants.ts.
 */
function matmulKernel(name: string, file: ShaderFile, entryPoint = 'main'): Kernel {
  return { name, files: ['act_fns.wgsl', 'matmul_common.wgsl', file], entryPoint, bindings: ['read', 'read', 'read', 'write', 'write', 'uniform'], params: matmulParams };
}

/** One kernel per register-block size of the variant list: an entry point of the generated matmul_blocks.wgsl. */
const blockKernels = Object.fromEntries(
  matmulBlockSizes.map(([rows, cols]) => [blockKernelName([rows, cols]), matmulKernel(`matmul_v4_${rows}x${cols}`, 'matmul_blocks.wgsl', `main_${rows}x${cols}`)]),
) as Record<BlockKernelName, Kernel>;

const fixedKernels = {
  matmul: matmulKernel('matmul', 'matmul.wgsl'),
  // Variants of `matmul` with the same bindings, Params and override constants; the autotuner
  // (src/kernels/autotune.ts) picks one per product and adapter. See src/kernels/matmul_variants.ts.
  matmulVec4k: matmulKernel('matmul_vec4k', 'matmul_vec4k.wgsl'),
  matmulVec4n: matmulKernel('matmul_vec4n', 'matmul_vec4n.wgsl'),
  matmulTiled: matmulKernel('matmul_tiled', 'matmul_tiled.wgsl'),
  /** The second step of a split-K product: adds the partial products and applies the epilogue. */
  matmulSplitKReduce: matmulKernel('matmul_split_k', 'matmul_split_k.wgsl'),
  activationForward: {
    name: 'activation.forward',
    files: ['act_fns.wgsl', 'activation.wgsl'],
    entryPoint: 'forward',
    bindings: ['read', 'read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32'], ['alpha', 'f32']]),
  },
  activationBackward: {
    name: 'activation.backward',
    files: ['act_fns.wgsl', 'activation.wgsl'],
    entryPoint: 'backward',
    bindings: ['read', 'read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32'], ['alpha', 'f32']]),
  },
  add: {
    name: 'add',
    files: ['add.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32']]),
  },
  accumulate: {
    name: 'accumulate',
    files: ['accumulate.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32'], ['weight', 'f32'], ['offset', 'u32']]),
  },
  softmax: {
    name: 'softmax',
    files: ['softmax.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['classes', 'u32']]),
  },
  softmaxXent: {
    name: 'softmax_xent',
    files: ['xent_metrics.wgsl', 'softmax_xent.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'write', 'write', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['classes', 'u32'], ['grad_scale', 'f32'], ['rows_per_group', 'u32']]),
  },
  /** A classifier head's step in one pass: last Linear, softmax cross-entropy, input gradient (fused). */
  linearSoftmaxXent: {
    name: 'linear_softmax_xent',
    files: ['act_fns.wgsl', 'xent_metrics.wgsl', 'linear_softmax_xent.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'read', 'read', 'write', 'write', 'write', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['classes', 'u32'], ['features', 'u32'], ['grad_scale', 'f32'], ['alpha', 'f32'], ['rows_per_group', 'u32']]),
  },
  columnSum: {
    name: 'column_sum',
    files: ['column_sum.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['cols', 'u32'], ['chunk_rows', 'u32']]),
  },
  gather: {
    name: 'gather',
    files: ['gather.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'read', 'read', 'read', 'write', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['features', 'u32'], ['scale', 'f32'], ['shift', 'f32'], ['samples_per_chunk', 'u32'], ['rows_offset', 'u32'], ['row_width', 'u32']]),
  },
  gatherAugment: {
    name: 'gather_augment',
    files: ['gather_augment.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'write', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [
      ['rows', 'u32'],
      ['features', 'u32'],
      ['scale', 'f32'],
      ['shift', 'f32'],
      ['width', 'u32'],
      ['height', 'u32'],
      ['max_shift', 'f32'],
      ['max_rotate', 'f32'],
      ['noise_std', 'f32'],
      ['rows_offset', 'u32'],
      ['row_width', 'u32'],
    ]),
  },
  mixupInputs: {
    name: 'mixup_inputs',
    files: ['mixup_inputs.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['features', 'u32']]),
  },
  /** The losses of the `loss` op (shaders/loss.wgsl): gradient and per-workgroup partial metrics. */
  loss: {
    name: 'loss',
    files: ['loss.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'write', 'write', 'uniform'],
    params: new UniformLayout('Params', [
      ['rows', 'u32'],
      ['cols', 'u32'],
      ['smoothing', 'f32'],
      ['weight_sum', 'f32'],
      ['grad_scale', 'f32'],
      ['delta', 'f32'],
      ['huber_scale', 'f32'],
    ]),
  },
  /** Adds loss.wgsl's partial metrics into the accumulator in a fixed order (shaders/loss_reduce.wgsl). */
  lossReduce: {
    name: 'loss_reduce',
    files: ['loss_reduce.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['groups', 'u32'], ['rows', 'u32']]),
  },
  mixupTargets: {
    name: 'mixup_targets',
    files: ['mixup_targets.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'write', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['classes', 'u32'], ['grad_scale', 'f32'], ['rows_per_group', 'u32']]),
  },
  dropoutForward: {
    name: 'dropout.forward',
    files: ['act_fns.wgsl', 'dropout.wgsl'],
    entryPoint: 'forward',
    bindings: ['read', 'read', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32'], ['threshold', 'u32'], ['scale', 'f32'], ['salt', 'u32'], ['alpha', 'f32']]),
  },
  dropoutBackward: {
    name: 'dropout.backward',
    files: ['act_fns.wgsl', 'dropout.wgsl'],
    entryPoint: 'backward',
    bindings: ['read', 'read', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32'], ['threshold', 'u32'], ['scale', 'f32'], ['salt', 'u32'], ['alpha', 'f32']]),
  },
  // Batch, group (instance, layer) norm and pooling: src/kernels/norm.ts, src/kernels/pool.ts.
  ...normKernels,
  ...poolKernels,
  /** Diagnostics' [mean, std, saturated fraction]: the whole tensor, or one summary per chunk (shaders/moments.wgsl). */
  moments: {
    name: 'moments',
    files: ['moments.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform'],
    params: momentsParams,
  },
  /** Merges the chunk summaries of `moments` into the statistics. */
  momentsCombine: {
    name: 'moments.combine',
    files: ['moments.wgsl'],
    entryPoint: 'combine',
    bindings: ['read', 'write', 'uniform'],
    params: momentsParams,
  },
  gradNorm: {
    name: 'grad_norm',
    files: ['grad_chunks.wgsl', 'grad_norm.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['slot_count', 'u32'], ['chunk_count', 'u32'], ['chunk_vec4', 'u32']]),
  },
  optimizer: {
    name: 'optimizer',
    files: ['grad_chunks.wgsl', 'optimizer.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'write', 'write', 'write', 'write', 'read', 'uniform', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32'], ['decay_count', 'u32'], ['slot_count', 'u32'], ['chunk_count', 'u32'], ['chunk_vec4', 'u32']]),
  },
  // conv2d (register-blocked and tiled) and its weight gradient's second pass (src/kernels/conv.ts).
  ...convKernels,
} satisfies Record<string, Kernel>;

export const kernels = { ...fixedKernels, ...blockKernels } as typeof fixedKernels & Record<BlockKernelName, Kernel>;

/** Optimizer hyperparameters (struct Hyper in optimizer.wgsl), written once; the learning rate is a per-step value. */
export const optimizerHyperLayout = new UniformLayout('Hyper', [
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['eps', 'f32'],
  ['weight_decay', 'f32'],
  ['decay_mode', 'u32'],
  ['clip_norm', 'f32'],
  ['clip_value', 'f32'],
  ['nesterov', 'u32'],
  ['log_beta1', 'f32'],
  ['log_beta2', 'f32'],
]);

/**
 * The per-step values every plan shares (struct Step in gather.wgsl, dropout.wgsl, optimizer.wgsl ...). A
 * table of them for a whole epoch sits in a GPU buffer; each step's entry is copied into the step uniform
 * inside the command buffer, so many steps share one submit.
 */
export const stepLayout = new UniformLayout('Step', [['step', 'u32'], ['batch_start', 'u32'], ['seed', 'u32'], ['mix_lambda', 'f32'], ['lr', 'f32']]);

export type KernelName = keyof typeof kernels;
