/**
 * Op records: each op's shape rule and backward rule, side by side (how each op runs on the GPU is in
 * src/kernels/lower.ts). Shape rules throw a ShapeError naming the op and the shapes. Backward rules
 * receive the gradients of the node's outputs and return one gradient per input (undefined = none).
 */
import { ConfigError, ShapeError } from '../errors';
import type { Attrs, Graph, Node, OutputSpec, Tensor } from './graph';
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

/** Activation kinds, numbered as in shaders/act_fns.wgsl. */
export const activationKinds = { identity: 0, relu: 1, sigmoid: 2, tanh: 3, leaky_relu: 4, elu: 5, selu: 6 } as const;
export type ActivationName = keyof typeof activationKinds;

export type OpName =
  | 'matmul'
  | 'activation'
  | 'activation_grad'
  | 'column_sum'
  | 'softmax_xent'
  | 'gather'
  | 'mixup_inputs'
  | 'mixup_targets'
  | 'dropout'
  | 'dropout_grad'
  | 'moments'
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
      const [dx] = graph.add('activation_grad', [dy, node.outputs[0]], { kind: node.attrs.kind, alpha: node.attrs.alpha, name: `d${node.inputs[0].name}` });
      return [dx];
    },
  },

  /** dx = dy ⊙ activate'(y), from the activation's output y. */
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
   * Fused softmax + cross-entropy on logits [B, C], labels [B] (u32) and the metrics accumulator [4]
   * (external; the batch's loss sum, correct count, rows and a non-finite flag are added to it).
   * Its one output is dlogits = (softmax − onehot)/B, the gradient of the mean loss: the op is its own
   * backward. Attr training=false skips writing it (evaluation).
   */
  softmax_xent: {
    infer([logits, labels, metrics]) {
      if (metrics.size !== 4) throw new ShapeError(`softmax_xent: metrics ${shapeText(metrics)} must hold 4 values.`);
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

  /** Mixup's blended inputs (shaders/mixup_inputs.wgsl): data only, so no backward. */
  mixup_inputs: {
    infer([x]) {
      expectRank('mixup_inputs', x, 2);
      return [{ shape: [...x.shape], name: 'x_mixed' }];
    },
  },

  /**
   * Mixup's blended targets: inputs logits, labels, softmax_xent's dlogits and the metrics; its output is
   * the gradient of the mixup loss, so, like softmax_xent, it is its own backward (the loss node).
   */
  mixup_targets: {
    infer([logits, labels, dlogits]) {
      if (dlogits.shape.join() !== logits.shape.join() || labels.shape[0] !== logits.shape[0]) {
        throw new ShapeError(`mixup_targets: ${shapeText(logits)}, ${shapeText(labels)} and ${shapeText(dlogits)} do not fit together.`);
      }
      return [{ shape: [...logits.shape], name: `d${logits.name}_mixed` }];
    },
    backward(node) {
      return [node.outputs[0], undefined, undefined, undefined];
    },
  },

  /**
   * Inverted dropout: y = x · keep / (1 − rate), the mask a hash of (seed, step from the Step uniform, salt,
   * element index). Attrs: rate in [0, 1), salt (distinct per layer). Only training graphs contain it.
   */
  dropout: {
    infer([x], attrs) {
      checkDropoutRate(Number(attrs.rate));
      return [{ shape: [...x.shape], name: String(attrs.name ?? 'dropout') }];
    },
    backward(node, [dy], graph, needed) {
      if (!dy || !needed[0]) return [];
      const { rate, salt } = node.attrs;
      return [graph.add('dropout_grad', [dy], { rate, salt, name: `d${node.inputs[0].name}` })[0]];
    },
  },

  /** dx = dy · keep / (1 − rate): the forward mask, regenerated from the same seed, step and salt. */
  dropout_grad: {
    infer([dy], attrs) {
      checkDropoutRate(Number(attrs.rate));
      return [{ shape: [...dy.shape], name: String(attrs.name ?? 'ddropout') }];
    },
  },

  /** Diagnostics: [mean, std, fraction of |x| > 0.99, 0] of a whole tensor (shaders/moments.wgsl). */
  moments: {
    infer(_inputs, attrs) {
      return [{ shape: [4], name: String(attrs.name ?? 'moments') }];
    },
  },

  /** A batch from a GPU-resident dataset: inputs images, labels, perm (external). Outputs x [B,F], y [B]. */
  gather: {
    infer(_inputs, attrs) {
      const rows = Number(attrs.rows);
      const features = Number(attrs.features);
      return [
        { shape: [rows, features], name: 'x' },
        { shape: [rows], name: 'labels', dtype: 'u32' },
      ];
    },
  },
};
