/**
 * Op records: each op's shape rule and backward rule, side by side (how each op runs on the GPU is in
 * src/kernels/lower.ts). Shape rules throw a ShapeError naming the op and the shapes. Backward rules
 * receive the gradients of the node's outputs and return one gradient per input (undefined = none).
 */
import { ConfigError, ShapeError } from '../errors';
import type { Attrs, Graph, Node, OutputSpec, Tensor } from './graph';
import { convOpDefs, type ConvOpName } from './ops_conv';
import { im2colOpDefs, type Im2colOpName } from './ops_im2col';
import { normPoolOpDefs, type NormPoolOpName } from './ops_norm_pool';

export interface OpDef {
  infer(inputs: Tensor[], attrs: Attrs): OutputSpec[];
  /** `needed[i]` says whether input i needs a gradient (it depends on a parameter); skip the rest. */
  backward?(node: Node, outputGrads: (Tensor | undefined)[], graph: Graph, needed: boolean[]): (Tensor | undefined)[];
}

const shapeText = (t: Tensor) => `${t.name} [${t.shape.join(', ')}]`;

function expectRank(op: string, t: Tensor, rank: number): void {
  if (t.shape.length !== rank) throw new ShapeError(`${op}: ${shapeText(t)} must have rank ${rank}.`);
}

/** Activation kinds, numbered as in shaders/act_fns.wgsl. gelu is the exact erf form (PyTorch's default). */
export const activationKinds = { identity: 0, relu: 1, sigmoid: 2, tanh: 3, leaky_relu: 4, elu: 5, selu: 6, gelu: 7, silu: 8 } as const;
export type ActivationName = keyof typeof activationKinds;

/**
 * Which tensor an activation's derivative is computed from: its input x (true) or its output y (false).
 * Every kind that can is differentiated from y, so the backward pass reads the tensor the forward pass
 * wrote anyway; GELU and SiLU are not invertible from y, so they read x. activation_grad's second input,
 * and the E operand of a fused actGrad epilogue, is that tensor (shaders/act_fns.wgsl `activate_grad`).
 */
export function derivativeFromInput(kind: ActivationName | string): boolean {
  return kind === 'gelu' || kind === 'silu';
}

export type OpName =
  | 'matmul'
  | 'activation'
  | 'activation_grad'
  | 'column_sum'
  | 'softmax_xent'
  | 'linear_softmax_xent'
  | 'loss'
  | 'gather'
  | 'mixup_inputs'
  | 'mixup_targets'
  | 'dropout'
  | 'dropout_grad'
  | 'moments'
  | 'reshape'
  | 'add'
  | 'softmax'
  | ConvOpName
  | Im2colOpName
  | NormPoolOpName;

/** PyTorch's defaults for BatchNorm, LayerNorm and GroupNorm. */
export const NORM_EPS = 1e-5;
export const BATCH_NORM_MOMENTUM = 0.1;

/** Checks a dropout rate: p in [0, 1) (p = 1 would drop everything and divide by zero). */
export function checkDropoutRate(rate: number): void {
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) {
    throw new ConfigError(`The dropout rate must be a number in [0, 1) (the fraction of units zeroed); got ${rate}.`);
  }
}

export const opDefs: Record<OpName, OpDef> = {
  // batch, layer, group (instance) norm and pooling: src/graph/ops_norm_pool.ts
  ...normPoolOpDefs,

  /**
   * out = op(a) · op(b) [+ bias]. Attrs: transA, transB (read a stored [K,M] / b stored [N,K]).
   * After fusion (src/scheduler/fuse.ts) it may also carry act / actGrad epilogues.
   */
  matmul: {
    infer([a, b, bias], attrs) {
      expectRank('matmul', a, 2);
      expectRank('matmul', b, 2);
      const [m, ka] = attrs.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
      const [kb, n] = attrs.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
      if (ka !== kb) {
        throw new ShapeError(
          `matmul: inner dimensions differ: ${shapeText(a)}${attrs.transA ? 'ᵀ' : ''} · ${shapeText(b)}${attrs.transB ? 'ᵀ' : ''} (${ka} ≠ ${kb}).`,
        );
      }
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) {
        throw new ShapeError(`matmul: bias ${shapeText(bias)} must have shape [${n}] to match the output columns.`);
      }
      return [{ shape: [m, n], name: String(attrs.name ?? 'matmul') }];
    },
    backward(node, [dOut], graph, needed) {
      if (!dOut) return [];
      const [a, b, bias] = node.inputs;
      const { transA, transB } = node.attrs;
      if (transA) throw new ShapeError('matmul backward: transA in the forward pass is not differentiable here.');
      // out = a·op(b):  da = dOut·op(b)ᵀ,  db = aᵀ·dOut (or its transpose when b is stored [N,K]).
      const da = needed[0] ? graph.add('matmul', [dOut, b], { transB: !transB, name: `d${a.name}` })[0] : undefined;
      let db: Tensor | undefined;
      if (needed[1]) {
        [db] = transB
          ? graph.add('matmul', [dOut, a], { transA: true, name: `d${b.name}` })
          : graph.add('matmul', [a, dOut], { transA: true, name: `d${b.name}` });
      }
      const dBias = bias && needed[2] ? graph.add('column_sum', [dOut], { name: `d${bias.name}` })[0] : undefined;
      return [da, db, dBias];
    },
  },

  /** y = activate(x). Attrs: kind (ActivationName), alpha. */
  activation: {
    infer([x], attrs) {
      if (!(String(attrs.kind) in activationKinds)) throw new ShapeError(`activation: unknown kind '${attrs.kind}'.`);
      return [{ shape: [...x.shape], name: String(attrs.name ?? attrs.kind) }];
    },
    backward(node, [dy], graph, needed) {
      if (!dy || !needed[0]) return [];
      const saved = derivativeFromInput(String(node.attrs.kind)) ? node.inputs[0] : node.outputs[0];
      const [dx] = graph.add('activation_grad', [dy, saved], { kind: node.attrs.kind, alpha: node.attrs.alpha, name: `d${node.inputs[0].name}` });
      return [dx];
    },
  },

  /** dx = dy ⊙ activate'(v), v the activation's output y, or its input x where derivativeFromInput(kind). */
  activation_grad: {
    infer([dy, y], attrs) {
      if (dy.shape.join() !== y.shape.join()) throw new ShapeError(`activation_grad: ${shapeText(dy)} and ${shapeText(y)} differ.`);
      return [{ shape: [...dy.shape], name: String(attrs.name ?? 'dact') }];
    },
  },

  /** out[n] = Σ_m x[m, n]. */
  column_sum: {
    infer([x], attrs) {
      expectRank('column_sum', x, 2);
      return [{ shape: [x.shape[1]], name: String(attrs.name ?? 'colsum') }];
    },
  },

  /**
   * Fused softmax + cross-entropy on logits [B, C], labels [B] (u32) and the metrics accumulator (external,
   * METRICS_FLOATS = 8 values, the `loss` op's layout; the batch's loss sum, correct count, rows and a
   * non-finite flag are added to its first four).
   * Its one output is dlogits = (softmax − onehot)/B, the gradient of the mean loss: the op is its own
   * backward. Attr training=false skips writing it (evaluation).
   */
  softmax_xent: {
    infer([logits, labels, metrics]) {
      if (metrics.size < 8) throw new ShapeError(`softmax_xent: metrics ${shapeText(metrics)} must hold 8 values.`);
      expectRank('softmax_xent', logits, 2);
      if (labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) {
        throw new ShapeError(`softmax_xent: labels ${shapeText(labels)} must be [${logits.shape[0]}], one per row of ${shapeText(logits)}.`);
      }
      return [{ shape: [...logits.shape], name: `d${logits.name}` }];
    },
    backward(node) {
      return [node.outputs[0], undefined, undefined];
    },
  },

  /**
   * A classifier head's training step, which only src/scheduler/fuse.ts builds (after autodiff, so it has
   * no backward): inputs h [B, F], W [C, F], b [C], labels [B], metrics[, v [B, F]]; outputs dlogits [B, C]
   * and, with attr writeDh, dh [B, F] = (dlogits·W) ⊙ activate'(v) for attr actGrad
   * (shaders/linear_softmax_xent.wgsl).
   */
  linear_softmax_xent: {
    infer([h, w, bias, labels, metrics], attrs) {
      const [logits] = opDefs.matmul.infer([h, w, bias], { transB: true });
      if (metrics.size < 8) throw new ShapeError(`linear_softmax_xent: metrics ${shapeText(metrics)} must hold 8 values.`);
      if (labels.shape.length !== 1 || labels.shape[0] !== h.shape[0]) {
        throw new ShapeError(`linear_softmax_xent: labels ${shapeText(labels)} must be [${h.shape[0]}], one per row of ${shapeText(h)}.`);
      }
      const dlogits = { shape: logits.shape, name: `d${attrs.name ?? 'logits'}` };
      return attrs.writeDh ? [dlogits, { shape: [...h.shape], name: `d${h.name}` }] : [dlogits];
    },
  },

  /**
   * The losses other than plain softmax cross-entropy (shaders/loss.wgsl, kinds as src/train/loss.ts
   * numbers them): inputs outputs [B, C], labels u32 [B] (kind 0, cross-entropy) or targets f32 [B, C]
   * (the rest), the metrics accumulator [8], and for weighted cross-entropy the class weights [C]. Its one
   * output is the gradient of the batch's mean loss, so, like softmax_xent, it is its own backward.
   * Attrs kind, smoothing, weightSum (Σ class weights, or C), delta, huberScale, training.
   */
  loss: {
    infer([outputs, truth, metrics, weights], attrs) {
      expectRank('loss', outputs, 2);
      if (metrics.size < 8) throw new ShapeError(`loss: metrics ${shapeText(metrics)} must hold 8 values.`);
      if (Number(attrs.kind) === 0) {
        if (truth.dtype !== 'u32' || truth.shape.length !== 1 || truth.shape[0] !== outputs.shape[0]) {
          throw new ShapeError(`loss: labels ${shapeText(truth)} must be u32 [${outputs.shape[0]}], one per row of ${shapeText(outputs)}.`);
        }
        if (weights && weights.size !== outputs.shape[1]) throw new ShapeError(`loss: class weights ${shapeText(weights)} must hold one value per class (${outputs.shape[1]}).`);
      } else if (truth.dtype !== 'f32' || truth.shape.join() !== outputs.shape.join()) {
        throw new ShapeError(`loss: targets ${shapeText(truth)} must be f32 of the outputs' shape ${shapeText(outputs)}.`);
      }
      return [{ shape: [...outputs.shape], name: `d${outputs.name}` }];
    },
    backward(node) {
      return node.inputs.map((_, i) => (i === 0 ? node.outputs[0] : undefined));
    },
  },

  /** Mixup's blended inputs (shaders/mixup_inputs.wgsl); inputs x and the step uniform (λ). Data only, so no backward. */
  mixup_inputs: {
    infer([x]) {
      expectRank('mixup_inputs', x, 2);
      return [{ shape: [...x.shape], name: 'x_mixed' }];
    },
  },

  /**
   * Mixup's blended targets: inputs logits, labels, softmax_xent's dlogits, the metrics and the step uniform; its output is
   * the gradient of the mixup loss, so, like softmax_xent, it is its own backward (the loss node).
   */
  mixup_targets: {
    infer([logits, labels, dlogits, metrics]) {
      if (metrics.size < 8) throw new ShapeError(`mixup_targets: metrics ${shapeText(metrics)} must hold 8 values.`);
      if (dlogits.shape.join() !== logits.shape.join() || labels.shape[0] !== logits.shape[0]) {
        throw new ShapeError(`mixup_targets: ${shapeText(logits)}, ${shapeText(labels)} and ${shapeText(dlogits)} do not fit together.`);
      }
      return [{ shape: [...logits.shape], name: `d${logits.name}_mixed` }];
    },
    backward(node) {
      return [node.outputs[0], undefined, undefined, undefined, undefined];
    },
  },

  /**
   * Inverted dropout: y = x · keep / (1 − rate), the mask a hash of (seed, step from the Step uniform, salt,
   * element index). Inputs x and the step uniform. Attrs: rate in [0, 1), salt (distinct per layer). Only
   * training graphs contain it.
   */
  dropout: {
    infer([x], attrs) {
      checkDropoutRate(Number(attrs.rate));
      return [{ shape: [...x.shape], name: String(attrs.name ?? 'dropout') }];
    },
    backward(node, [dy], graph, needed) {
      if (!dy || !needed[0]) return [];
      const { rate, salt } = node.attrs;
      // The mask is regenerated from the same step values: the step uniform is the second input of both.
      return [graph.add('dropout_grad', [dy, node.inputs[1]], { rate, salt, name: `d${node.inputs[0].name}` })[0]];
    },
  },

  /** dx = dy · keep / (1 − rate): the forward mask, regenerated from the same seed, step and salt. */
  dropout_grad: {
    infer([dy], attrs) {
      checkDropoutRate(Number(attrs.rate));
      return [{ shape: [...dy.shape], name: String(attrs.name ?? 'ddropout') }];
    },
  },

  /** Row-wise softmax of logits [B, C]: the predicted probabilities (inference only, so no backward). */
  softmax: {
    infer([logits], attrs) {
      expectRank('softmax', logits, 2);
      return [{ shape: [...logits.shape], name: String(attrs.name ?? 'probabilities') }];
    },
  },

  /** A view of x with another shape of the same size (Flatten): no kernel runs, the buffer is shared. */
  reshape: {
    infer([x], attrs) {
      const shape = String(attrs.shape).split(',').map(Number);
      const size = shape.reduce((a, b) => a * b, 1);
      if (size !== x.size) throw new ShapeError(`reshape: ${shapeText(x)} has ${x.size} elements; [${shape.join(', ')}] has ${size}.`);
      return [{ shape, name: String(attrs.name ?? `${x.name}.view`), viewOf: 0 }];
    },
    backward(node, [dy], graph, needed) {
      if (!dy || !needed[0]) return [];
      return [graph.add('reshape', [dy], { shape: node.inputs[0].shape.join(','), name: `d${node.inputs[0].name}` })[0]];
    },
  },

  /** out = a + b, elementwise (a residual connection; autodiff also sums fan-out gradients with it). */
  add: {
    infer([a, b], attrs) {
      if (a.shape.join() !== b.shape.join()) throw new ShapeError(`add: ${shapeText(a)} and ${shapeText(b)} must have the same shape.`);
      return [{ shape: [...a.shape], name: String(attrs.name ?? 'sum') }];
    },
    backward(_node, [dy], _graph, needed) {
      return dy ? [needed[0] ? dy : undefined, needed[1] ? dy : undefined] : [];
    },
  },

  /** Diagnostics: [mean, std, fraction of |x| > 0.99, 0] of a whole tensor (shaders/moments.wgsl). */
  moments: {
    infer(_inputs, attrs) {
      return [{ shape: [4], name: String(attrs.name ?? 'moments') }];
    },
  },

  /**
   * A batch from a GPU-resident dataset: inputs perm, the step uniform (its batch_start says where the batch
   * begins in perm), the dataset's side table (per-feature affine map, labels or targets), then the input
   * chunks. Attrs rows, features, float, samplesPerChunk, perFeature, scale, shift, rowsOffset, rowWidth,
   * rowKind ('labels' | 'targets') and augmentation's. Outputs x [B, F] and the batch's labels (u32 [B]) or
   * targets (f32 [B, rowWidth]).
   */
  gather: {
    infer(_inputs, attrs) {
      const rows = Number(attrs.rows);
      const labels = attrs.rowKind === 'labels';
      return [
        { shape: [rows, Number(attrs.features)], name: 'x' },
        labels ? { shape: [rows], name: 'labels', dtype: 'u32' } : { shape: [rows, Number(attrs.rowWidth)], name: 'targets' },
      ];
    },
  },

  // conv2d, its gradients and add (src/graph/ops_conv.ts).
  ...convOpDefs,
  // im2col, col2im and the layout changes of a convolution run as a matmul (src/graph/ops_im2col.ts).
  ...im2colOpDefs,
};
