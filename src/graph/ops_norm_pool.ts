/**
 * Op records of the normalisation and pooling layers, as PyTorch defines them: shape rules (ShapeError
 * naming the op and the shapes) and backward rules, side by side. How they run on the GPU is in
 * src/kernels/lower_norm_pool.ts. Tensors are NCHW (PyTorch's layout); every norm works on x viewed as
 * [outer, C, inner] (batch norm) or as rows of a matrix (group, instance and layer norm).
 */
import { ConfigError, ShapeError } from '../errors';
import type { Attrs, Tensor } from './graph';
import type { OpDef } from './ops';

export type NormPoolOpName =
  | 'batch_norm'
  | 'batch_norm_grad'
  | 'layer_norm'
  | 'layer_norm_grad'
  | 'group_norm'
  | 'group_norm_grad'
  | 'max_pool2d'
  | 'max_pool2d_grad'
  | 'avg_pool2d'
  | 'avg_pool2d_grad';

const shapeText = (t: Tensor) => `${t.name} [${t.shape.join(', ')}]`;
const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** x as [outer, C, inner]: dim 0, dim 1, and the product of the rest (1 for [B, F]). */
export function channelView(op: string, x: Tensor): { outer: number; channels: number; inner: number } {
  if (x.shape.length < 2) throw new ShapeError(`${op}: ${shapeText(x)} must have at least 2 dims, [batch, channels, ...].`);
  return { outer: x.shape[0], channels: x.shape[1], inner: product(x.shape.slice(2)) };
}

function expectVector(op: string, t: Tensor, length: number, what: string): void {
  if (t.shape.length !== 1 || t.shape[0] !== length) throw new ShapeError(`${op}: ${shapeText(t)} must have shape [${length}], ${what}.`);
}

function expectSame(op: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError(`${op}: ${shapeText(a)} and ${shapeText(b)} must have the same shape.`);
}

/** An optional affine pair: both γ and β, or neither. */
function affineOperands(op: string, operands: Tensor[], x: Tensor): boolean {
  if (operands.length === 0) return false;
  if (operands.length !== 2) throw new ShapeError(`${op}: expected x alone or x, γ, β; got ${operands.length + 1} inputs (${[x, ...operands].map(shapeText).join(', ')}).`);
  return true;
}

// ---- layer norm: x viewed as [rows, features], features = the product of the last `normalizedDims` dims ----

/** Rows and features of layer norm's view of x (attr normalizedDims, default 1: the last dim). */
export function layerNormView(op: string, x: Tensor, attrs: Attrs): { rows: number; features: number } {
  const dims = Number(attrs.normalizedDims ?? 1);
  if (!Number.isInteger(dims) || dims < 1 || dims > x.shape.length) {
    throw new ShapeError(`${op}: normalizedDims must be an integer from 1 to the rank of ${shapeText(x)}; got ${attrs.normalizedDims}.`);
  }
  return { rows: product(x.shape.slice(0, x.shape.length - dims)), features: product(x.shape.slice(x.shape.length - dims)) };
}

/** γ and β have normalized_shape (x's trailing dims), or the same flattened. */
function expectLayerNormParam(op: string, p: Tensor, x: Tensor, attrs: Attrs): void {
  const trailing = x.shape.slice(x.shape.length - Number(attrs.normalizedDims ?? 1));
  if (!sameShape(p.shape, trailing) && !sameShape(p.shape, [product(trailing)])) {
    throw new ShapeError(`${op}: ${shapeText(p)} must have normalized_shape [${trailing.join(', ')}] (or [${product(trailing)}] flattened) to match ${shapeText(x)}.`);
  }
}

// ---- group norm: x [N, C, *] as rows = N·G rows of (C/G)·S ----

export function groupNormView(op: string, x: Tensor, attrs: Attrs): { batch: number; channels: number; spatial: number; groups: number } {
  const { outer, channels, inner } = channelView(op, x);
  const groups = Number(attrs.groups);
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new ShapeError(`${op}: num_groups ${attrs.groups} must be a positive integer dividing the ${channels} channels of ${shapeText(x)} (instance norm: num_groups = channels).`);
  }
  return { batch: outer, channels, spatial: inner, groups };
}

// ---- pooling ----

export interface PoolGeometry {
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/**
 * Window sizes from attrs `kernel` (or kernelH, kernelW), `stride` (default: the kernel) and `padding`
 * (default 0; or padH, padW), as MaxPool2d/AvgPool2d's kernel_size, stride, padding with ceil_mode False:
 * out = ⌊(in + 2·pad − kernel) / stride⌋ + 1. x is [N, C, H, W] or [C, H, W]; `inH`/`inW` attrs override
 * H and W (the grad ops, whose input is dy).
 */
export function poolGeometry(op: string, x: Tensor, attrs: Attrs, fromGrad = false): PoolGeometry {
  if (x.shape.length !== 3 && x.shape.length !== 4) throw new ShapeError(`${op}: ${shapeText(x)} must be [N, C, H, W] or [C, H, W].`);
  const pick = (specific: unknown, both: unknown, fallback: number) => Number(specific ?? both ?? fallback);
  const kernelH = pick(attrs.kernelH, attrs.kernel, NaN);
  const kernelW = pick(attrs.kernelW, attrs.kernel, NaN);
  const g = {
    kernelH,
    kernelW,
    strideH: pick(attrs.strideH, attrs.stride, kernelH),
    strideW: pick(attrs.strideW, attrs.stride, kernelW),
    padH: pick(attrs.padH, attrs.padding, 0),
    padW: pick(attrs.padW, attrs.padding, 0),
  };
  for (const [name, value] of Object.entries(g)) {
    const min = name.startsWith('pad') ? 0 : 1;
    if (!Number.isInteger(value) || value < min) throw new ShapeError(`${op}: ${name} must be an integer ≥ ${min}; got ${value}.`);
  }
  if (2 * g.padH > g.kernelH || 2 * g.padW > g.kernelW) {
    throw new ShapeError(`${op}: padding (${g.padH}, ${g.padW}) must be at most half the kernel (${g.kernelH}, ${g.kernelW}), as in PyTorch.`);
  }
  const [h, w] = x.shape.slice(-2);
  const inH = fromGrad ? Number(attrs.inputH) : h;
  const inW = fromGrad ? Number(attrs.inputW) : w;
  const outH = Math.floor((inH + 2 * g.padH - g.kernelH) / g.strideH) + 1;
  const outW = Math.floor((inW + 2 * g.padW - g.kernelW) / g.strideW) + 1;
  if (!(outH >= 1 && outW >= 1)) {
    throw new ShapeError(`${op}: a ${g.kernelH}×${g.kernelW} window with padding (${g.padH}, ${g.padW}) does not fit the ${inH}×${inW} planes of ${shapeText(x)}.`);
  }
  if (fromGrad && (h !== outH || w !== outW)) {
    throw new ShapeError(`${op}: ${shapeText(x)} must have ${outH}×${outW} planes, the pooled size of ${inH}×${inW}.`);
  }
  return { ...g, planes: product(x.shape.slice(0, -2)), inH, inW, outH, outW };
}

/** The attrs a pool grad op needs: the forward's window and its input's plane size. */
function poolGradAttrs(x: Tensor, attrs: Attrs): Attrs {
  const { kernelH, kernelW, strideH, strideW, padH, padW } = poolGeometry('pool', x, attrs);
  return { kernelH, kernelW, strideH, strideW, padH, padW, inputH: x.shape.at(-2), inputW: x.shape.at(-1), name: `d${x.name}` };
}

function pooledShape(x: Tensor, g: PoolGeometry): number[] {
  return [...x.shape.slice(0, -2), g.outH, g.outW];
}

export const normPoolOpDefs: Record<NormPoolOpName, OpDef> = {
  /**
   * BatchNorm1d/2d/3d over channel dim 1 of x [B, F] or [N, C, *]; inputs x, γ, β, running_mean,
   * running_var (all [C] but x). Outputs y (x's shape), mean [C] and rstd [C]. Attrs: training (default
   * true: batch statistics, saved for the backward, running statistics updated in place with `momentum`;
   * false: the running statistics normalise and are only read), eps, momentum. In training the running
   * statistics are written, so they must be `state` tensors, not parameters (the kernel reads γ and β from
   * the parameter arena, and WebGPU cannot bind one buffer read-only and writable in one dispatch).
   */
  batch_norm: {
    infer(inputs, attrs) {
      const [x, ...rest] = inputs;
      if (inputs.length !== 5) throw new ShapeError(`batch_norm: expected x, γ, β, running_mean, running_var; got ${inputs.length} inputs.`);
      const { outer, channels, inner } = channelView('batch_norm', x);
      rest.forEach((t) => expectVector('batch_norm', t, channels, `one per channel of ${shapeText(x)}`));
      const training = attrs.training !== false;
      if (training && outer * inner < 2) {
        throw new ConfigError(
          `batch_norm: a training batch of ${x.shape[0]} row has 1 value per channel (${shapeText(x)}), so no batch variance (PyTorch refuses it too). Use batches of at least 2 rows.`,
        );
      }
      const written = training ? rest.slice(2).filter((t) => t.role === 'param') : [];
      if (written.length) {
        throw new ConfigError(`batch_norm: the running statistics ${written.map((t) => t.name).join(', ')} are written in training, so they must be 'state' tensors (the state buffer), not parameters.`);
      }
      const name = String(attrs.name ?? 'bn');
      // Evaluation needs mean and rstd only as distinct bindings (writable bindings must not overlap).
      return [{ shape: [...x.shape], name }, { shape: [channels], name: `${name}.mean` }, { shape: [channels], name: `${name}.rstd` }];
    },
    backward(node, [dy], graph, needed) {
      if (!dy) return [];
      const [x, gamma, beta] = node.inputs;
      const [, mean, rstd] = node.outputs;
      const [dx, dgamma, dbeta] = graph.add('batch_norm_grad', [dy, x, mean, rstd, gamma], { name: `d${x.name}`, gammaName: `d${gamma.name}`, betaName: `d${beta.name}` });
      return [needed[0] ? dx : undefined, dgamma, dbeta, undefined, undefined];
    },
  },

  /** Training-mode batch norm's backward. Inputs dy, x, saved mean and rstd [C], γ; outputs dx, dγ [C], dβ [C]. */
  batch_norm_grad: {
    infer([dy, x, mean, rstd, gamma], attrs) {
      const { channels } = channelView('batch_norm_grad', x);
      expectSame('batch_norm_grad', dy, x);
      for (const t of [mean, rstd, gamma]) expectVector('batch_norm_grad', t, channels, `one per channel of ${shapeText(x)}`);
      return [
        { shape: [...x.shape], name: String(attrs.name ?? 'dbn') },
        { shape: [channels], name: String(attrs.gammaName ?? 'dgamma') },
        { shape: [channels], name: String(attrs.betaName ?? 'dbeta') },
      ];
    },
  },

  /**
   * LayerNorm(normalized_shape): statistics over the last `normalizedDims` dims of x (attr, default 1);
   * inputs x, and optionally γ and β (normalized_shape, or flattened; absent: elementwise_affine False).
   * Outputs y, mean [rows] and rstd [rows] (rows = the product of the leading dims). Attr eps.
   */
  layer_norm: {
    infer([x, ...params], attrs) {
      const { rows } = layerNormView('layer_norm', x, attrs);
      if (affineOperands('layer_norm', params, x)) params.forEach((p) => expectLayerNormParam('layer_norm', p, x, attrs));
      const name = String(attrs.name ?? 'ln');
      return [{ shape: [...x.shape], name }, { shape: [rows], name: `${name}.mean` }, { shape: [rows], name: `${name}.rstd` }];
    },
    backward(node, [dy], graph, needed) {
      const [x, gamma, beta] = node.inputs;
      if (!dy || (!needed[0] && !gamma)) return [];
      const [, mean, rstd] = node.outputs;
      const names = gamma ? { gammaName: `d${gamma.name}`, betaName: `d${beta.name}` } : {};
      const grads = graph.add('layer_norm_grad', gamma ? [dy, x, mean, rstd, gamma] : [dy, x, mean, rstd], { normalizedDims: node.attrs.normalizedDims, name: `d${x.name}`, ...names });
      return [needed[0] ? grads[0] : undefined, grads[1], grads[2]];
    },
  },

  /** Inputs dy, x, saved mean and rstd [rows], γ (optional); outputs dx, then dγ and dβ (γ's shape) with γ. Attr normalizedDims. */
  layer_norm_grad: {
    infer([dy, x, mean, rstd, gamma], attrs) {
      const { rows } = layerNormView('layer_norm_grad', x, attrs);
      expectSame('layer_norm_grad', dy, x);
      for (const t of [mean, rstd]) expectVector('layer_norm_grad', t, rows, 'one per row');
      const dx = { shape: [...x.shape], name: String(attrs.name ?? 'dln') };
      if (!gamma) return [dx];
      expectLayerNormParam('layer_norm_grad', gamma, x, attrs);
      return [dx, { shape: [...gamma.shape], name: String(attrs.gammaName ?? 'dgamma') }, { shape: [...gamma.shape], name: String(attrs.betaName ?? 'dbeta') }];
    },
  },

  /**
   * GroupNorm(num_groups, num_channels) on x [N, C, *]; inputs x, and optionally γ and β [C] (absent:
   * affine False). Attr groups (G, dividing C), eps. Outputs y, mean [N, G], rstd [N, G]. InstanceNorm1d/2d
   * (affine False, no running statistics, PyTorch's defaults) is groups = C.
   */
  group_norm: {
    infer([x, ...params], attrs) {
      const { batch, channels, groups } = groupNormView('group_norm', x, attrs);
      if (affineOperands('group_norm', params, x)) params.forEach((p) => expectVector('group_norm', p, channels, `one per channel of ${shapeText(x)}`));
      const name = String(attrs.name ?? 'gn');
      return [{ shape: [...x.shape], name }, { shape: [batch, groups], name: `${name}.mean` }, { shape: [batch, groups], name: `${name}.rstd` }];
    },
    backward(node, [dy], graph, needed) {
      const [x, gamma, beta] = node.inputs;
      if (!dy || (!needed[0] && !gamma)) return [];
      const [, mean, rstd] = node.outputs;
      const names = gamma ? { gammaName: `d${gamma.name}`, betaName: `d${beta.name}` } : {};
      const grads = graph.add('group_norm_grad', gamma ? [dy, x, mean, rstd, gamma] : [dy, x, mean, rstd], { groups: node.attrs.groups, name: `d${x.name}`, ...names });
      return [needed[0] ? grads[0] : undefined, grads[1], grads[2]];
    },
  },

  /** Inputs dy, x, saved mean and rstd [N, G], γ [C] (optional); outputs dx, then dγ [C] and dβ [C] with γ. Attr groups. */
  group_norm_grad: {
    infer([dy, x, mean, rstd, gamma], attrs) {
      const { batch, channels, groups } = groupNormView('group_norm_grad', x, attrs);
      expectSame('group_norm_grad', dy, x);
      for (const t of [mean, rstd]) {
        if (!sameShape(t.shape, [batch, groups])) throw new ShapeError(`group_norm_grad: ${shapeText(t)} must have shape [${batch}, ${groups}], one per (sample, group).`);
      }
      const dx = { shape: [...x.shape], name: String(attrs.name ?? 'dgn') };
      if (!gamma) return [dx];
      expectVector('group_norm_grad', gamma, channels, `one per channel of ${shapeText(x)}`);
      return [dx, { shape: [channels], name: String(attrs.gammaName ?? 'dgamma') }, { shape: [channels], name: String(attrs.betaName ?? 'dbeta') }];
    },
  },

  /**
   * MaxPool2d on x [N, C, H, W] (or [C, H, W]). Attrs kernel (or kernelH, kernelW), stride (default the
   * kernel), padding (default 0, at most half the kernel; the padding is −∞). Outputs y and indices (u32,
   * the argmax's position h·W + w in its input plane, as PyTorch's return_indices), same shape.
   */
  max_pool2d: {
    infer([x], attrs) {
      const shape = pooledShape(x, poolGeometry('max_pool2d', x, attrs));
      const name = String(attrs.name ?? 'maxpool');
      return [{ shape, name }, { shape, name: `${name}.indices`, dtype: 'u32' }];
    },
    backward(node, [dy], graph, needed) {
      if (!dy || !needed[0]) return [];
      const [x] = node.inputs;
      return [graph.add('max_pool2d_grad', [dy, node.outputs[1]], poolGradAttrs(x, node.attrs))[0]];
    },
  },

  /** Inputs dy, indices (the forward's outputs' shape); attrs the forward's window plus inputH, inputW. Output dx. */
  max_pool2d_grad: {
    infer([dy, indices], attrs) {
      const g = poolGeometry('max_pool2d_grad', dy, attrs, true);
      expectSame('max_pool2d_grad', dy, indices);
      if (indices.dtype !== 'u32') throw new ShapeError(`max_pool2d_grad: ${shapeText(indices)} must be the u32 indices of max_pool2d.`);
      return [{ shape: [...dy.shape.slice(0, -2), g.inH, g.inW], name: String(attrs.name ?? 'dmaxpool') }];
    },
  },

  /** AvgPool2d (count_include_pad True, ceil_mode False: PyTorch's defaults); attrs as max_pool2d. Output y. */
  avg_pool2d: {
    infer([x], attrs) {
      return [{ shape: pooledShape(x, poolGeometry('avg_pool2d', x, attrs)), name: String(attrs.name ?? 'avgpool') }];
    },
    backward(node, [dy], graph, needed) {
      if (!dy || !needed[0]) return [];
      const [x] = node.inputs;
      return [graph.add('avg_pool2d_grad', [dy], poolGradAttrs(x, node.attrs))[0]];
    },
  },

  /** Input dy; attrs the forward's window plus inputH, inputW. Output dx. */
  avg_pool2d_grad: {
    infer([dy], attrs) {
      const g = poolGeometry('avg_pool2d_grad', dy, attrs, true);
      return [{ shape: [...dy.shape.slice(0, -2), g.inH, g.inW], name: String(attrs.name ?? 'davgpool') }];
    },
  },
};
