/**
 * A convolution as a matrix product, the way most GPU libraries run it: `im2col` unfolds the input into one
 * row of K = Ci·KH·KW taps per output position, a plain matmul with the weights viewed as [Co, K] does the
 * arithmetic (the tuned matmul family: src/kernels/matmul_variants.ts), and `channels_first` puts its
 * [N·OH·OW, Co] rows back into NCHW. Autodiff then derives the backward from rules that already exist:
 * the matmul's two products (dcols = dY·W, dW = dYᵀ·cols, with the bias gradient fused into the second),
 * `channels_last` for the layout, `col2im` to fold dcols onto the input.
 *
 *   im2col          (x [N,Ci,H,W]) → cols [N·OH·OW, Ci·KH·KW]    attrs kernelH, kernelW, strides, pads
 *   col2im          (dcols, v?) → dx [N,Ci,H,W]                  attrs kernelH, kernelW, strides, pads,
 *                                                                inChannels, inputH, inputW; after fusion actGrad, alpha
 *   channels_first  (x [N·H·W, C]) → [N,C,H,W]                    attrs height, width; after fusion act, alpha
 *   channels_last   (x [N,C,H,W], v?) → [N·H·W, C]                after fusion actGrad, alpha (v: the saved tensor)
 *
 * `addConv2d` picks this path or the direct conv2d kernels (src/graph/ops_conv.ts) per layer
 * (`convRunsAsGemm`). Kernels: shaders/im2col.wgsl, col2im.wgsl and channels.wgsl.
 */
import { ShapeError } from '../errors';
import type { Attrs, Graph, Tensor } from './graph';
import type { OpDef } from './ops';
import { convGeometry, convOpDefs, convTaps, type ConvGeometry } from './ops_conv';

export type Im2colOpName = 'im2col' | 'col2im' | 'channels_first' | 'channels_last';

const shapeText = (t: Tensor) => `${t.name} [${t.shape.join(', ')}]`;

/** The geometry of a convolution with `kernelH` × `kernelW` taps (attrs) over an input of shape [N, Ci, H, W]. */
export function windowGeometry(op: string, input: readonly number[], attrs: Attrs): ConvGeometry {
  const kernel = [Number(attrs.kernelH), Number(attrs.kernelW)];
  if (!kernel.every((k) => Number.isInteger(k) && k > 0)) throw new ShapeError(`${op}: attrs kernelH and kernelW must be positive integers; got ${attrs.kernelH} × ${attrs.kernelW}.`);
  return convGeometry(op, input, [1, input[1], kernel[0], kernel[1]], attrs);
}

const windowAttrs = (g: ConvGeometry) => ({ kernelH: g.kernelH, kernelW: g.kernelW, strideH: g.strideH, strideW: g.strideW, padH: g.padH, padW: g.padW });

/**
 * Whether a convolution runs as im2col → matmul: when the matmul's vec4 kernels take it (K = Ci·KH·KW and
 * Co multiples of 4) and the unfolded input stays within COLS_MAX_BYTES. Measured on SwiftShader
 * (bench/conv.mjs, MNIST's conv2 16→32 k5 at batch 128, ms per computation, every dispatch of the chain
 * counted): forward 270 (sliding-window kernel) → 119–145, input gradient 268 → 164–177, weight gradient
 * 271–297 → 82–108; im2col and col2im are about 60 ms of it each, the products the rest. MNIST's conv1
 * (Ci = 1, K = 25) keeps the direct kernels.
 */
export function convRunsAsGemm(g: ConvGeometry): boolean {
  const k = convTaps(g);
  return k % 4 === 0 && g.outChannels % 4 === 0 && g.batch * g.outH * g.outW * k * 4 <= COLS_MAX_BYTES;
}

/** The largest unfolded input the GEMM path makes (its gradient is as large); past it, the direct kernels. */
export const COLS_MAX_BYTES = 64 * 2 ** 20;

/**
 * y = conv2d(x, w) + bias, NCHW: the direct conv2d op, or im2col → matmul → channels_first where
 * `convRunsAsGemm` says so. Either way y has the conv2d op's shape and values (to rounding) and is named `name`.
 */
export function addConv2d(graph: Graph, x: Tensor, w: Tensor, bias: Tensor | undefined, attrs: { strideH: number; strideW: number; padH: number; padW: number; name: string }): Tensor {
  const inputs = bias ? [x, w, bias] : [x, w];
  convOpDefs.conv2d.infer(inputs, attrs); // the conv2d op's shape rule checks either path, naming the problem
  const g = convGeometry('conv2d', x.shape, w.shape, attrs);
  if (!convRunsAsGemm(g)) return graph.add('conv2d', inputs, attrs)[0];
  const [cols] = graph.add('im2col', [x], { ...windowAttrs(g), name: `${attrs.name}.cols` });
  const [matrix] = graph.add('reshape', [w], { shape: `${g.outChannels},${convTaps(g)}`, name: `${w.name}.matrix` });
  const [rows] = graph.add('matmul', bias ? [cols, matrix, bias] : [cols, matrix], { transB: true, name: `${attrs.name}.rows` });
  return graph.add('channels_first', [rows], { height: g.outH, width: g.outW, name: attrs.name })[0];
}

export const im2colOpDefs: Record<Im2colOpName, OpDef> = {
  im2col: {
    infer([x], attrs) {
      if (x.shape.length !== 4) throw new ShapeError(`im2col: ${shapeText(x)} must have rank 4 (N, C, H, W).`);
      const g = windowGeometry('im2col', x.shape, attrs);
      return [{ shape: [g.batch * g.outH * g.outW, convTaps(g)], name: String(attrs.name ?? 'cols') }];
    },
    backward(node, [dcols], graph, needed) {
      if (!dcols || !needed[0]) return [];
      const x = node.inputs[0];
      const g = windowGeometry('im2col', x.shape, node.attrs);
      return [graph.add('col2im', [dcols], { ...windowAttrs(g), inChannels: g.inChannels, inputH: g.inH, inputW: g.inW, name: `d${x.name}` })[0]];
    },
  },

  /** The gradient of im2col: each input element sums the taps that copied it; with v (after fusion) times activate'(v). */
  col2im: {
    infer([dcols, v], attrs) {
      const channels = Number(attrs.inChannels);
      const plane = [Number(attrs.inputH), Number(attrs.inputW)];
      if (!(Number.isInteger(channels) && channels > 0 && plane.every((d) => Number.isInteger(d) && d > 0))) {
        throw new ShapeError(`col2im: attrs inChannels, inputH and inputW must be positive integers; got ${attrs.inChannels}, ${attrs.inputH} × ${attrs.inputW}.`);
      }
      const g = windowGeometry('col2im', [1, channels, ...plane], attrs);
      const positions = g.outH * g.outW;
      if (dcols.shape.length !== 2 || dcols.shape[1] !== convTaps(g) || dcols.shape[0] % positions !== 0) {
        throw new ShapeError(`col2im: ${shapeText(dcols)} must be [N·${positions}, ${convTaps(g)}], the unfolded ${channels}×${plane.join('×')} input of a ${g.kernelH}×${g.kernelW} window.`);
      }
      const shape = [dcols.shape[0] / positions, channels, ...plane];
      if (v && v.shape.join() !== shape.join()) throw new ShapeError(`col2im: the activation tensor ${shapeText(v)} must have the input gradient's shape [${shape.join(', ')}].`);
      return [{ shape, name: String(attrs.name ?? 'dx') }];
    },
  },

  channels_first: {
    infer([x], attrs) {
      const [h, w] = [Number(attrs.height), Number(attrs.width)];
      if (x.shape.length !== 2 || !(h > 0 && w > 0) || x.shape[0] % (h * w) !== 0) {
        throw new ShapeError(`channels_first: ${shapeText(x)} must be [N·${h}·${w}, C], one row per position of ${h}×${w} images.`);
      }
      return [{ shape: [x.shape[0] / (h * w), x.shape[1], h, w], name: String(attrs.name ?? `${x.name}.nchw`) }];
    },
    backward(_node, [dy], graph, needed) {
      return dy && needed[0] ? [graph.add('channels_last', [dy], { name: `${dy.name}.rows` })[0]] : [];
    },
  },

  channels_last: {
    infer([x, v]) {
      if (x.shape.length !== 4) throw new ShapeError(`channels_last: ${shapeText(x)} must have rank 4 (N, C, H, W).`);
      if (v && v.shape.join() !== x.shape.join()) throw new ShapeError(`channels_last: the activation tensor ${shapeText(v)} must have the shape of ${shapeText(x)}.`);
      const [n, c, h, w] = x.shape;
      return [{ shape: [n * h * w, c], name: `${x.name}.rows` }];
    },
    backward(node, [dy], graph, needed) {
      const [, , height, width] = node.inputs[0].shape;
      return dy && needed[0] ? [graph.add('channels_first', [dy], { height, width, name: `${dy.name}.nchw` })[0]] : [];
    },
  },
};
