/**
 * Op records of convolutional networks: 2-D convolution on NCHW tensors (PyTorch's layout) with its two
 * gradients (residual connections use `add`, src/graph/ops.ts). Shape rules throw a
 * ShapeError naming the op and the shapes; kernels are in shaders/conv2d.wgsl, lowerings in
 * src/kernels/lower_conv.ts.
 *
 *   conv2d                     (x [N,Ci,H,W], w [Co,Ci,KH,KW], bias? [Co]) → y [N,Co,OH,OW]
 *                              attrs strideH, strideW (default 1), padH, padW (default 0); after fusion act, alpha
 *   conv2d_grad_input          (dy [N,Co,OH,OW], w, v?) → dx [N,Ci,H,W]
 *                              attrs strides, pads, inputH, inputW; after fusion actGrad, alpha (v: the saved tensor)
 *   conv2d_grad_weight         (dy, x) → partials [splits, Co·Ci·KH·KW (+ Co with bias)]
 *                              attrs strides, pads, kernelH, kernelW, bias (boolean), splits
 *   conv2d_grad_weight_reduce  (partials) → dw [Co,Ci,KH,KW], db? [Co]
 *                              attrs outChannels, inChannels, kernelH, kernelW, bias, name, biasName
 *
 * OH = ⌊(H + 2·padH − KH) / strideH⌋ + 1, likewise OW (PyTorch's Conv2d with dilation 1, groups 1).
 * The weight gradient is a long reduction (N·OH·OW terms) into a small output, so it runs in two passes:
 * many invocations write partial sums over ranges of output rows, then a fixed-order sum finishes dw
 * and db together (deterministic: no atomics).
 */
import { ShapeError } from '../errors';
import type { Attrs, Tensor } from './graph';
import type { OpDef } from './ops';

export type ConvOpName = 'conv2d' | 'conv2d_grad_input' | 'conv2d_grad_weight' | 'conv2d_grad_weight_reduce';

/** Everything a conv kernel needs to know about the shapes (all positive integers; pads ≥ 0). */
export interface ConvGeometry {
  batch: number;
  inChannels: number;
  inH: number;
  inW: number;
  outChannels: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

const shapeText = (t: Tensor) => `${t.name} [${t.shape.join(', ')}]`;

function expectRank4(op: string, t: Tensor, layout: string): void {
  if (t.shape.length !== 4) throw new ShapeError(`${op}: ${shapeText(t)} must have rank 4 (${layout}).`);
}

/** strideH, strideW, padH, padW from the attrs, checked. */
function convAttrs(op: string, attrs: Attrs): { strideH: number; strideW: number; padH: number; padW: number } {
  const value = (name: string, fallback: number, min: number) => {
    const v = attrs[name] === undefined ? fallback : Number(attrs[name]);
    if (!Number.isInteger(v) || v < min) throw new ShapeError(`${op}: ${name} must be an integer ≥ ${min}; got ${attrs[name]}.`);
    return v;
  };
  return { strideH: value('strideH', 1, 1), strideW: value('strideW', 1, 1), padH: value('padH', 0, 0), padW: value('padW', 0, 0) };
}

/** The output extent of one spatial dimension, or a ShapeError when the kernel does not fit. */
function outExtent(op: string, what: string, size: number, kernel: number, stride: number, pad: number): number {
  const span = size + 2 * pad - kernel;
  if (span < 0) {
    throw new ShapeError(`${op}: the kernel ${what} ${kernel} exceeds the padded input ${what} ${size} + 2·${pad}; use a smaller kernel or more padding.`);
  }
  return Math.floor(span / stride) + 1;
}

/** The geometry of a convolution of input shape [N,Ci,H,W] by weights [Co,Ci,KH,KW]. */
export function convGeometry(op: string, input: readonly number[], weight: readonly number[], attrs: Attrs): ConvGeometry {
  const [batch, inChannels, inH, inW] = input;
  const [outChannels, , kernelH, kernelW] = weight;
  const { strideH, strideW, padH, padW } = convAttrs(op, attrs);
  return {
    batch,
    inChannels,
    inH,
    inW,
    outChannels,
    outH: outExtent(op, 'height', inH, kernelH, strideH, padH),
    outW: outExtent(op, 'width', inW, kernelW, strideW, padW),
    kernelH,
    kernelW,
    strideH,
    strideW,
    padH,
    padW,
  };
}

/** The geometry of a grad node from its attrs and the shapes it sees. */
export function gradGeometry(op: string, dy: Tensor, inputShape: readonly number[], weightShape: readonly number[], attrs: Attrs): ConvGeometry {
  const g = convGeometry(op, inputShape, weightShape, attrs);
  const expected = [g.batch, g.outChannels, g.outH, g.outW];
  if (dy.shape.join() !== expected.join()) {
    throw new ShapeError(`${op}: ${shapeText(dy)} must be [${expected.join(', ')}], the output of a convolution of [${inputShape.join(', ')}] by [${weightShape.join(', ')}].`);
  }
  return g;
}

/** Taps of one output channel: K = Ci·KH·KW. */
export const convTaps = (g: ConvGeometry) => g.inChannels * g.kernelH * g.kernelW;

/**
 * Splits of the weight-gradient reduction over the N·OH output rows. Each split should be long enough to
 * amortise an invocation (≥ 256 terms: whole rows of OW), and there should be enough splits that the
 * grad_weight kernel's 4×4 output blocks times the splits reach ~16k invocations, which fills a GPU;
 * past that more splits only grow the partial-sum buffer. MNIST's conv1 (N 128, 16×1×5×5, 28×28
 * output) gets 359 splits of 10 rows, conv2 (32×16×5×5, 10×10) 21 of 61 rows.
 */
export function convWeightGradSplits(g: ConvGeometry, bias: boolean): number {
  const rows = g.batch * g.outH;
  const rowsPerSplitMin = Math.ceil(256 / g.outW);
  const maxSplits = Math.ceil(rows / rowsPerSplitMin);
  const blocks = Math.ceil(g.outChannels / 4) * (Math.ceil(convTaps(g) / 4) + (bias ? 1 : 0));
  return Math.max(1, Math.min(maxSplits, Math.ceil(16384 / blocks)));
}

/** Output rows (n, oh) per split: the splits cover all N·OH rows, the last one possibly short or empty. */
export const convRowsPerSplit = (g: ConvGeometry, splits: number) => Math.ceil((g.batch * g.outH) / splits);

const geometryAttrs = (g: ConvGeometry) => ({ strideH: g.strideH, strideW: g.strideW, padH: g.padH, padW: g.padW });

export const convOpDefs: Record<ConvOpName, OpDef> = {
  conv2d: {
    infer([x, w, bias], attrs) {
      expectRank4('conv2d', x, 'N, C, H, W');
      expectRank4('conv2d', w, 'out channels, in channels, KH, KW');
      if (x.shape[1] !== w.shape[1]) {
        throw new ShapeError(`conv2d: ${shapeText(x)} has ${x.shape[1]} channels but the weights ${shapeText(w)} expect ${w.shape[1]}.`);
      }
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== w.shape[0])) {
        throw new ShapeError(`conv2d: bias ${shapeText(bias)} must have shape [${w.shape[0]}], one per output channel of ${shapeText(w)}.`);
      }
      const g = convGeometry('conv2d', x.shape, w.shape, attrs);
      return [{ shape: [g.batch, g.outChannels, g.outH, g.outW], name: String(attrs.name ?? 'conv2d') }];
    },
    backward(node, [dy], graph, needed) {
      if (!dy) return [];
      const [x, w, bias] = node.inputs;
      const g = convGeometry('conv2d', x.shape, w.shape, node.attrs);
      const dx = needed[0]
        ? graph.add('conv2d_grad_input', [dy, w], { ...geometryAttrs(g), inputH: g.inH, inputW: g.inW, name: `d${x.name}` })[0]
        : undefined;
      let dw: Tensor | undefined;
      let db: Tensor | undefined;
      if (needed[1] || (bias && needed[2])) {
        const hasBias = !!bias;
        const [partials] = graph.add('conv2d_grad_weight', [dy, x], {
          ...geometryAttrs(g),
          kernelH: g.kernelH,
          kernelW: g.kernelW,
          bias: hasBias,
          splits: convWeightGradSplits(g, hasBias),
          name: `d${w.name}.partials`,
        });
        [dw, db] = graph.add('conv2d_grad_weight_reduce', [partials], {
          outChannels: g.outChannels,
          inChannels: g.inChannels,
          kernelH: g.kernelH,
          kernelW: g.kernelW,
          bias: hasBias,
          name: `d${w.name}`,
          biasName: bias ? `d${bias.name}` : undefined,
        });
      }
      return [dx, needed[1] ? dw : undefined, bias && needed[2] ? db : undefined];
    },
  },

  /** dx = the input gradient of a conv2d; with v (after fusion) times activate'(v) of the layer below. */
  conv2d_grad_input: {
    infer([dy, w, v], attrs) {
      expectRank4('conv2d_grad_input', dy, 'N, out channels, OH, OW');
      expectRank4('conv2d_grad_input', w, 'out channels, in channels, KH, KW');
      if (dy.shape[1] !== w.shape[0]) {
        throw new ShapeError(`conv2d_grad_input: ${shapeText(dy)} has ${dy.shape[1]} channels but the weights ${shapeText(w)} have ${w.shape[0]} output channels.`);
      }
      const input = [dy.shape[0], w.shape[1], Number(attrs.inputH), Number(attrs.inputW)];
      if (!input.every((d) => Number.isInteger(d) && d > 0)) {
        throw new ShapeError(`conv2d_grad_input: attrs inputH and inputW must be the forward input's height and width; got ${attrs.inputH} × ${attrs.inputW}.`);
      }
      gradGeometry('conv2d_grad_input', dy, input, w.shape, attrs);
      if (v && v.shape.join() !== input.join()) {
        throw new ShapeError(`conv2d_grad_input: the activation tensor ${shapeText(v)} must have the input gradient's shape [${input.join(', ')}].`);
      }
      return [{ shape: input, name: String(attrs.name ?? 'dconv_input') }];
    },
  },

  /** Partial sums of dw (and db) over `splits` ranges of output rows; conv2d_grad_weight_reduce adds them. */
  conv2d_grad_weight: {
    infer([dy, x], attrs) {
      expectRank4('conv2d_grad_weight', dy, 'N, out channels, OH, OW');
      expectRank4('conv2d_grad_weight', x, 'N, in channels, H, W');
      const weight = [dy.shape[1], x.shape[1], Number(attrs.kernelH), Number(attrs.kernelW)];
      if (!weight.every((d) => Number.isInteger(d) && d > 0)) {
        throw new ShapeError(`conv2d_grad_weight: attrs kernelH and kernelW must be positive integers; got ${attrs.kernelH} × ${attrs.kernelW}.`);
      }
      const g = gradGeometry('conv2d_grad_weight', dy, x.shape, weight, attrs);
      const splits = Number(attrs.splits);
      if (!Number.isInteger(splits) || splits < 1) throw new ShapeError(`conv2d_grad_weight: attr splits must be a positive integer; got ${attrs.splits}.`);
      const width = g.outChannels * convTaps(g) + (attrs.bias ? g.outChannels : 0);
      return [{ shape: [splits, width], name: String(attrs.name ?? 'dconv_weight.partials') }];
    },
  },

  /** dw [Co,Ci,KH,KW] (and db [Co] when attr bias) from conv2d_grad_weight's partial sums. */
  conv2d_grad_weight_reduce: {
    infer([partials], attrs) {
      const weight = [attrs.outChannels, attrs.inChannels, attrs.kernelH, attrs.kernelW].map(Number);
      const co = weight[0];
      const width = weight.reduce((a, b) => a * b, 1) + (attrs.bias ? co : 0);
      if (partials.shape.length !== 2 || partials.shape[1] !== width) {
        throw new ShapeError(`conv2d_grad_weight_reduce: ${shapeText(partials)} must be [splits, ${width}] for weights [${weight.join(', ')}]${attrs.bias ? ' and a bias' : ''}.`);
      }
      const dw = { shape: weight, name: String(attrs.name ?? 'dconv_weight') };
      return attrs.bias ? [dw, { shape: [co], name: String(attrs.biasName ?? 'dconv_bias') }] : [dw];
    },
  },
};
