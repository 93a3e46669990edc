/** Every kernel the engine dispatches: module files, binding kinds in binding order, Params layout. */
import type { Kernel } from './kernel';
import { normKernels } from './norm';
import { poolKernels } from './pool';
import type { ShaderFile } from './shaders';
import { UniformLayout } from './uniform';

const matmulParams = new UniformLayout('Params', [['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['alpha', 'f32']]);

function matmulVariant(name: string, file: ShaderFile): Kernel {
  return { name, files: ['act_fns.wgsl', file], entryPoint: 'main', bindings: ['read', 'read', 'read', 'write', 'uniform'], params: matmulParams };
}

export const kernels = {
  matmul: {
    name: 'matmul',
    files: ['act_fns.wgsl', 'matmul.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'write', 'uniform'],
    params: matmulParams,
  },
  // Variants of `matmul` with the same bindings, Params and override constants; the autotuner
  // (src/kernels/autotune.ts) picks one per shape and adapter. See src/kernels/matmul_variants.ts.
  matmulVec4k: matmulVariant('matmul_vec4k', 'matmul_vec4k.wgsl'),
  matmulVec4n: matmulVariant('matmul_vec4n', 'matmul_vec4n.wgsl'),
  matmulV4x4: matmulVariant('matmul_v4_4x4', 'matmul_v4_4x4.wgsl'),
  matmulV8x8: matmulVariant('matmul_v4_8x8', 'matmul_v4_8x8.wgsl'),
  matmulV8x16: matmulVariant('matmul_v4_8x16', 'matmul_v4_8x16.wgsl'),
  matmulV16x16: matmulVariant('matmul_v4_16x16', 'matmul_v4_16x16.wgsl'),
  matmulTiled: matmulVariant('matmul_tiled', 'matmul_tiled.wgsl'),
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
  softmaxXent: {
    name: 'softmax_xent',
    files: ['softmax_xent.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'write', 'write', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['classes', 'u32'], ['grad_scale', 'f32']]),
  },
  columnSum: {
    name: 'column_sum',
    files: ['column_sum.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['cols', 'u32']]),
  },
  gather: {
    name: 'gather',
    files: ['gather.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'write', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['features', 'u32'], ['scale', 'f32'], ['shift', 'f32']]),
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
    ]),
  },
  mixupInputs: {
    name: 'mixup_inputs',
    files: ['mixup_inputs.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['features', 'u32']]),
  },
  mixupTargets: {
    name: 'mixup_targets',
    files: ['mixup_targets.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'write', 'write', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['rows', 'u32'], ['classes', 'u32'], ['grad_scale', 'f32']]),
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
  moments: {
    name: 'moments',
    files: ['moments.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32']]),
  },
  gradNorm: {
    name: 'grad_norm',
    files: ['grad_norm.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'write', 'write', 'uniform'],
    params: new UniformLayout('Params', [['slot_count', 'u32']]),
  },
  optimizer: {
    name: 'optimizer',
    files: ['optimizer.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'write', 'write', 'write', 'write', 'uniform', 'uniform', 'uniform'],
    params: new UniformLayout('Params', [['count', 'u32'], ['decay_count', 'u32'], ['slot_count', 'u32']]),
  },
} satisfies Record<string, Kernel>;

/** Optimizer hyperparameters (struct Hyper in optimizer.wgsl), rewritten when the learning rate changes. */
export const optimizerHyperLayout = new UniformLayout('Hyper', [
  ['lr', 'f32'],
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

/** The per-step uniform every plan shares (struct Step in gather.wgsl and optimizer.wgsl). Written once before each submit. */
export const stepLayout = new UniformLayout('Step', [['step', 'u32'], ['batch_start', 'u32'], ['seed', 'u32'], ['mix_lambda', 'f32']]);

export type KernelName = keyof typeof kernels;
