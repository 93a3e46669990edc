/**
 * The TypeScript side of shaders/conv2d.wgsl, partial_sum.wgsl, im2col.wgsl, col2im.wgsl and channels.wgsl: kernel
 * records (spread into the catalog), the shared Params of every conv entry point, and each variant's
 * workgroup count. Every conv kernel binds (in0, in1, epi, out, Params), so a register-blocked kernel
 * and the tiled one are interchangeable in a plan: only the kernel, constants and workgroups differ.
 */
import type { ConvGeometry } from '../graph/ops_conv';
import { convTaps } from '../graph/ops_conv';
import { grid1d, type Constants, type Kernel } from './kernel';
import { UniformLayout } from './uniform';

/** struct Params of shaders/conv_params.wgsl (conv2d.wgsl, im2col.wgsl). */
export const convParamsLayout = new UniformLayout('Params', [
  ['batch', 'u32'],
  ['in_channels', 'u32'],
  ['in_h', 'u32'],
  ['in_w', 'u32'],
  ['out_channels', 'u32'],
  ['out_h', 'u32'],
  ['out_w', 'u32'],
  ['kernel_h', 'u32'],
  ['kernel_w', 'u32'],
  ['stride_h', 'u32'],
  ['stride_w', 'u32'],
  ['pad_h', 'u32'],
  ['pad_w', 'u32'],
  ['splits', 'u32'],
  ['rows_per_split', 'u32'],
  ['alpha', 'f32'],
]);

function convKernel(name: string, file: 'conv2d_blocked.wgsl' | 'conv2d_window.wgsl' | 'conv2d_tiled.wgsl', entryPoint: string): Kernel {
  return { name, files: ['act_fns.wgsl', 'conv_params.wgsl', 'conv2d.wgsl', file], entryPoint, bindings: ['read', 'read', 'read', 'write', 'uniform'], params: convParamsLayout };
}

/** struct Params of shaders/channels.wgsl. */
const channelsParamsLayout = new UniformLayout('Params', [
  ['count', 'u32'],
  ['channels', 'u32'],
  ['spatial', 'u32'],
  ['alpha', 'f32'],
]);

function channelsKernel(name: string, entryPoint: string): Kernel {
  return { name, files: ['act_fns.wgsl', 'channels.wgsl'], entryPoint, bindings: ['read', 'read', 'write', 'uniform'], params: channelsParamsLayout };
}

export const convKernels = {
  /** y = conv(x, w) (+ bias, activate): bindings x, w, bias | dummy, y. Constants BIAS, ACT, WG. */
  conv2dForward: convKernel('conv2d.forward', 'conv2d_blocked.wgsl', 'forward'),
  /** dx (· activate'(v)): bindings dy, w, v | dummy, dx. Constants ACT_GRAD, WG. */
  conv2dGradInput: convKernel('conv2d.grad_input', 'conv2d_blocked.wgsl', 'grad_input'),
  /** Partial sums of dw (and db): bindings dy, x, dummy, partials. Constants BIAS, WG. */
  conv2dGradWeight: convKernel('conv2d.grad_weight', 'conv2d_blocked.wgsl', 'grad_weight'),
  /** forward at stride_w = 1 with a sliding window: 4 channels × 8 columns an invocation. Same bindings and constants. */
  conv2dForwardWindow: convKernel('conv2d.forward_window', 'conv2d_window.wgsl', 'forward_window'),
  /** grad_input at stride_w = 1 with a sliding window. Same bindings and constants as conv2dGradInput. */
  conv2dGradInputWindow: convKernel('conv2d.grad_input_window', 'conv2d_window.wgsl', 'grad_input_window'),
  /** grad_weight at stride_w = 1, KW ≤ 8, one kernel row an invocation. Same bindings and constants as conv2dGradWeight. */
  conv2dGradWeightWindow: convKernel('conv2d.grad_weight_window', 'conv2d_window.wgsl', 'grad_weight_window'),
  /** The workgroup-tiled variant of all three (constant MODE 0, 1, 2), same bindings and constants. */
  conv2dTiled: convKernel('conv2d.tiled', 'conv2d_tiled.wgsl', 'tiled'),
  /** cols [N·OH·OW, K] from x (shaders/im2col.wgsl): bindings x, cols. Constant WG. */
  im2col: { name: 'im2col', files: ['conv_params.wgsl', 'im2col.wgsl'], entryPoint: 'im2col', bindings: ['read', 'write', 'uniform'], params: convParamsLayout },
  /** dx from dcols (· activate'(v)): bindings dcols, v | dummy, dx. Constants ACT_GRAD, WG (shaders/col2im.wgsl). */
  col2im: { name: 'col2im', files: ['act_fns.wgsl', 'conv_params.wgsl', 'col2im.wgsl'], entryPoint: 'col2im', bindings: ['read', 'read', 'write', 'uniform'], params: convParamsLayout },
  /** NCHW from [N·S, C] rows (activated): bindings rows, dummy, y. Constants ACT, WG (shaders/channels.wgsl). */
  channelsFirst: channelsKernel('channels.first', 'to_channels_first'),
  /** [N·S, C] rows from NCHW (· activate'(v)): bindings x, v | dummy, rows. Constants ACT_GRAD, WG. */
  channelsLast: channelsKernel('channels.last', 'to_channels_last'),
  /** The weight gradient's second pass: bindings partials, dw, db | dummy. */
  partialSum: {
    name: 'partial_sum',
    files: ['partial_sum.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'write', 'write', 'uniform'],
    params: new UniformLayout('Params', [['splits', 'u32'], ['count_a', 'u32'], ['count_b', 'u32']]),
  },
} satisfies Record<string, Kernel>;

export type ConvComputation = 'forward' | 'grad_input' | 'grad_weight';

/**
 * 'blocked': the 4×4 register-blocked entry points; 'window': the sliding-window ones (stride_w = 1 only,
 * and KW ≤ 8 for the weight gradient); 'tiled': the workgroup-tiled entry point.
 */
export type ConvVariant = 'blocked' | 'window' | 'tiled';

/** Whether a variant computes this computation at this geometry. */
export function convVariantFits(variant: ConvVariant, computation: ConvComputation, g: ConvGeometry): boolean {
  return variant !== 'window' || (g.strideW === 1 && (computation !== 'grad_weight' || g.kernelW <= 8));
}

/** Invocations per workgroup of the register-blocked kernels (constant WG). */
export const CONV_WG = 64;
/** Output tile of the tiled kernel (TILE in conv2d_tiled.wgsl). */
export const CONV_TILE = 32;

export const convModes: Record<ConvComputation, number> = { forward: 0, grad_input: 1, grad_weight: 2 };

/** The Params of a conv dispatch (splits: grad_weight's partial sums; 1 elsewhere). */
export function convParams(g: ConvGeometry, splits = 1, alpha = 0): Record<string, number> {
  return {
    batch: g.batch,
    in_channels: g.inChannels,
    in_h: g.inH,
    in_w: g.inW,
    out_channels: g.outChannels,
    out_h: g.outH,
    out_w: g.outW,
    kernel_h: g.kernelH,
    kernel_w: g.kernelW,
    stride_h: g.strideH,
    stride_w: g.strideW,
    pad_h: g.padH,
    pad_w: g.padW,
    splits,
    rows_per_split: Math.ceil((g.batch * g.outH) / splits),
    alpha,
  };
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * Invocations of a register-blocked kernel: one per 4 channels × 4 columns (taps for grad_weight); for the
 * window kernels 4 channels × 8 columns, or × one kernel row (ci, kh) for grad_weight.
 */
export function blockedInvocations(computation: ConvComputation, g: ConvGeometry, splits = 1, bias = false, window = false): number {
  if (window && computation === 'forward') return ceilDiv(g.outW, 8) * g.batch * g.outH * ceilDiv(g.outChannels, 4);
  if (window && computation === 'grad_input') return ceilDiv(g.inW, 8) * g.batch * g.inH * ceilDiv(g.inChannels, 4);
  if (window) return (g.inChannels * g.kernelH + (bias ? 1 : 0)) * ceilDiv(g.outChannels, 4) * splits;
  switch (computation) {
    case 'forward':
      return ceilDiv(g.outW, 4) * g.batch * g.outH * ceilDiv(g.outChannels, 4);
    case 'grad_input':
      return g.strideW * ceilDiv(ceilDiv(g.inW, g.strideW), 4) * g.batch * g.inH * ceilDiv(g.inChannels, 4);
    case 'grad_weight':
      return (ceilDiv(convTaps(g), 4) + (bias ? 1 : 0)) * ceilDiv(g.outChannels, 4) * splits;
  }
}

/** Workgroup counts of one conv computation in the given variant. */
export function convWorkgroups(variant: ConvVariant, computation: ConvComputation, g: ConvGeometry, splits = 1, bias = false): [number, number, number] {
  if (variant !== 'tiled') return grid1d(blockedInvocations(computation, g, splits, bias, variant === 'window'), CONV_WG);
  const [rows, cols] =
    computation === 'forward'
      ? [g.outChannels, g.batch * g.outH * g.outW]
      : computation === 'grad_input'
        ? [g.inChannels, g.batch * g.inH * g.inW]
        : [g.outChannels, convTaps(g) + (bias ? 1 : 0)];
  if (computation === 'grad_weight') return [ceilDiv(cols, CONV_TILE), ceilDiv(rows, CONV_TILE), splits];
  // Column tiles past 65,535 fold into z (the kernel reads tile = x + z·groups.x).
  const tiles = ceilDiv(cols, CONV_TILE);
  const z = ceilDiv(tiles, 65535);
  return [ceilDiv(tiles, z), ceilDiv(rows, CONV_TILE), z];
}

/** What an epilogue adds to a conv dispatch: bias (forward; db for grad_weight), activation kinds. */
export interface ConvEpilogue {
  bias?: boolean;
  act?: number;
  actGrad?: number;
}

/**
 * The override constants of one conv dispatch: those of the computation's epilogue that its entry point
 * reads (an entry point is given no constant it does not declare), and the variant's own: WG for the
 * 1-D kernels, WINDOW_KW (the kernel width, so the unused taps of the window cost nothing) for
 * grad_weight_window, MODE for the tiled kernel.
 */
export function convConstants(variant: ConvVariant, computation: ConvComputation, g: ConvGeometry, { bias = false, act = 0, actGrad = 0 }: ConvEpilogue = {}): Constants {
  if (variant === 'tiled') return { MODE: convModes[computation], BIAS: bias, ACT: act, ACT_GRAD: actGrad };
  if (computation === 'forward') return { BIAS: bias, ACT: act, WG: CONV_WG };
  if (computation === 'grad_input') return { ACT_GRAD: actGrad, WG: CONV_WG };
  return variant === 'window' ? { BIAS: bias, WG: CONV_WG, WINDOW_KW: g.kernelW } : { BIAS: bias, WG: CONV_WG };
}

/** The kernel of one computation in one variant. */
export function convKernelName(variant: ConvVariant, computation: ConvComputation): keyof typeof convKernels {
  if (variant === 'tiled') return 'conv2dTiled';
  if (variant === 'window') return computation === 'forward' ? 'conv2dForwardWindow' : computation === 'grad_input' ? 'conv2dGradInputWindow' : 'conv2dGradWeightWindow';
  if (computation === 'grad_weight') return 'conv2dGradWeight';
  return computation === 'forward' ? 'conv2dForward' : 'conv2dGradInput';
}
