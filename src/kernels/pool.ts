/** Kernel records of 2-D max and average pooling (shaders/pool2d.wgsl), forward and backward. */
import type { Kernel } from './kernel';
import { UniformLayout } from './uniform';

const poolParams = new UniformLayout('Params', [
  ['planes', 'u32'],
  ['in_h', 'u32'],
  ['in_w', 'u32'],
  ['out_h', 'u32'],
  ['out_w', 'u32'],
  ['kernel_h', 'u32'],
  ['kernel_w', 'u32'],
  ['stride_h', 'u32'],
  ['stride_w', 'u32'],
  ['pad_h', 'u32'],
  ['pad_w', 'u32'],
]);

export const poolKernels = {
  /** x → y, indices (u32, the argmax's position in its input plane). */
  maxPoolForward: { name: 'pool2d.max_forward', files: ['pool2d.wgsl'], entryPoint: 'max_forward', bindings: ['read', 'write', 'write', 'uniform'], params: poolParams },
  /** dy, indices → dx. */
  maxPoolBackward: { name: 'pool2d.max_backward', files: ['pool2d.wgsl'], entryPoint: 'max_backward', bindings: ['read', 'read', 'write', 'uniform'], params: poolParams },
  /** x → y. */
  avgPoolForward: { name: 'pool2d.avg_forward', files: ['pool2d.wgsl'], entryPoint: 'avg_forward', bindings: ['read', 'write', 'uniform'], params: poolParams },
  /** dy → dx. */
  avgPoolBackward: { name: 'pool2d.avg_backward', files: ['pool2d.wgsl'], entryPoint: 'avg_backward', bindings: ['read', 'write', 'uniform'], params: poolParams },
} satisfies Record<string, Kernel>;
