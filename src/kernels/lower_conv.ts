/**
 * Lowerings of conv2d and its gradient ops (src/graph/ops_conv.ts) to dispatches of shaders/conv2d.wgsl
 * and partial_sum.wgsl, and of the im2col path's ops (src/graph/ops_im2col.ts) to im2col.wgsl and channels.wgsl.
 *
 * Which conv variant (defaultConvVariant), from bench/conv.mjs on SwiftShader (the only adapter this
 * project has run), MNIST CNN shapes at batch 128:
 *   forward, grad_input: the sliding-window kernels where stride_w = 1 (1.2–1.6× the 4×4 blocked ones),
 *                        the blocked ones otherwise;
 *   grad_weight:         the window kernel where it fits (stride_w = 1, KW ≤ 8): on conv1 (Ci = 1) 92 ms
 *                        against 111 for the blocked one (2026-12-04); on conv2 it was 5% slower, but conv2
 *                        now runs as a matmul (src/graph/ops_im2col.ts), and the convolutions left on these
 *                        kernels are the few-channel ones (K not a multiple of 4) that favour it;
 *   never the tiled kernel: 2–25× slower there, since it pays a barrier per 16-deep K step and decodes
 *                        the indices of every element it stages. It is for GPUs (coalesced loads, operand
 *                        reuse through workgroup memory) and shares bindings and Params with the others,
 *                        so a tuner can swap any variant in per shape with `lowerConv(node, variant)`.
 * The weight gradient's split count hardly matters on SwiftShader (4 to 64 splits within 2% for conv2).
 */
import type { Node, Tensor } from '../graph/graph';
import { activationKinds, type ActivationName } from '../graph/ops';
import { convGeometry, type ConvGeometry } from '../graph/ops_conv';
import { windowGeometry } from '../graph/ops_im2col';
import { convConstants, convKernelName, convParams, convVariantFits, convWorkgroups, type ConvComputation, type ConvVariant } from './conv';
import { grid1d } from './kernel';
import type { LoweredDispatch, Operand } from './lower';

/** What lowering emits: the sliding-window kernels where they fit (stride_w = 1; KW ≤ 8 for grad_weight), else blocked. */
export function defaultConvVariant(computation: ConvComputation, g: ConvGeometry): ConvVariant {
  return convVariantFits('window', computation, g) ? 'window' : 'blocked';
}

const t = (tensor: Tensor): Operand => ({ tensor });
const dummy: Operand = { dummy: true };
const kindOf = (name: unknown) => (name ? activationKinds[name as ActivationName] : 0);

function convDispatch(
  requested: ConvVariant | undefined,
  computation: ConvComputation,
  g: ConvGeometry,
  operands: Operand[],
  { splits = 1, bias = false, act = 0, actGrad = 0, alpha = 0 } = {},
): LoweredDispatch {
  const variant = requested ?? defaultConvVariant(computation, g);
  if (!convVariantFits(variant, computation, g)) throw new Error(`conv2d: the '${variant}' kernels do not compute ${computation} at stride ${g.strideH}×${g.strideW}.`);
  return {
    kernel: convKernelName(variant, computation),
    constants: convConstants(variant, computation, g, { bias, act, actGrad }),
    operands,
    params: convParams(g, splits, alpha),
    workgroups: convWorkgroups(variant, computation, g, splits, bias),
  };
}

/** Invocations per workgroup of im2col, col2im and the layout changes (one element or one tap run each). */
export const IM2COL_WG = 256;

/** Invocations of im2col: one per output position and block of 4 input channels. */
export const im2colInvocations = (g: ConvGeometry) => g.batch * g.outH * g.outW * Math.ceil(g.inChannels / 4);

/** Invocations of col2im for an input gradient of shape [N, Ci, H, W]: one per position and block of 4 channels. */
export const col2imInvocations = ([n, channels, h, w]: readonly number[]) => n * h * w * Math.ceil(channels / 4);

/** The dispatch of a conv node (the direct kernels, or the im2col path's own ops), or undefined for any other op. */
export function lowerConv(node: Node, variant?: ConvVariant): LoweredDispatch | undefined {
  const attrs = node.attrs;
  const alpha = Number(attrs.alpha ?? 0);
  switch (node.op) {
    case 'conv2d': {
      const [x, w, bias] = node.inputs;
      const g = convGeometry('conv2d', x.shape, w.shape, attrs);
      return convDispatch(variant, 'forward', g, [t(x), t(w), bias ? t(bias) : dummy, t(node.outputs[0])], { bias: !!bias, act: kindOf(attrs.act), alpha });
    }
    case 'conv2d_grad_input': {
      const [dy, w, v] = node.inputs; // v: the saved activation tensor, present once fuse folded an activation_grad in
      const dx = node.outputs[0];
      const g = convGeometry('conv2d_grad_input', dx.shape, w.shape, attrs);
      return convDispatch(variant, 'grad_input', g, [t(dy), t(w), v ? t(v) : dummy, t(dx)], { actGrad: kindOf(attrs.actGrad), alpha });
    }
    case 'conv2d_grad_weight': {
      const [dy, x] = node.inputs;
      const g = convGeometry('conv2d_grad_weight', x.shape, [dy.shape[1], x.shape[1], Number(attrs.kernelH), Number(attrs.kernelW)], attrs);
      return convDispatch(variant, 'grad_weight', g, [t(dy), t(x), dummy, t(node.outputs[0])], { splits: Number(attrs.splits), bias: !!attrs.bias });
    }
    case 'im2col': {
      const [x] = node.inputs;
      const g = windowGeometry('im2col', x.shape, attrs);
      return { kernel: 'im2col', constants: { WG: IM2COL_WG }, operands: [t(x), t(node.outputs[0])], params: convParams(g), workgroups: grid1d(im2colInvocations(g), IM2COL_WG) };
    }
    case 'col2im': {
      const [dcols, v] = node.inputs;
      const dx = node.outputs[0];
      return {
        kernel: 'col2im',
        constants: { WG: IM2COL_WG, ACT_GRAD: kindOf(attrs.actGrad) },
        operands: [t(dcols), v ? t(v) : dummy, t(dx)],
        params: convParams(windowGeometry('col2im', dx.shape, attrs), 1, alpha),
        workgroups: grid1d(col2imInvocations(dx.shape), IM2COL_WG),
      };
    }
    case 'channels_first':
    case 'channels_last': {
      const [src, v] = node.inputs;
      const out = node.outputs[0];
      const [, channels, h, w] = node.op === 'channels_first' ? out.shape : src.shape;
      return {
        kernel: node.op === 'channels_first' ? 'channelsFirst' : 'channelsLast',
        constants: node.op === 'channels_first' ? { WG: IM2COL_WG, ACT: kindOf(attrs.act) } : { WG: IM2COL_WG, ACT_GRAD: kindOf(attrs.actGrad) },
        operands: [t(src), v ? t(v) : dummy, t(out)],
        params: { count: out.size, channels, spatial: h * w, alpha },
        workgroups: grid1d(out.size, IM2COL_WG),
      };
    }
    case 'conv2d_grad_weight_reduce': {
      const [partials] = node.inputs;
      const [dw, db] = node.outputs;
      return {
        kernel: 'partialSum',
        constants: {},
        operands: [t(partials), t(dw), db ? t(db) : dummy],
        params: { splits: partials.shape[0], count_a: dw.size, count_b: db ? db.size : 0 },
        workgroups: grid1d(partials.shape[1], 64),
      };
    }
  }
  return undefined;
}
