/**
 * How each graph op runs on the GPU: the kernel, its override constants, the tensors in binding order,
 * the Params values and the workgroup count. Pure data; the scheduler resolves tensors to buffers.
 */
import type { ExternalBuffer, Node, Tensor } from '../graph/graph';
import { activationKinds, type ActivationName } from '../graph/ops';
import { kernels, type KernelName } from './catalog';
import { grid1d, type Constants } from './kernel';
import { lowerConv } from './lower_conv';
import { lowerNormPool } from './lower_norm_pool';
import { lowerReduction } from './lower_reduce';

/**
 * A binding before buffer assignment: a tensor, an external buffer, the unused-slot dummy, or a scratch
 * buffer private to one node. Scratch operands with the same `scratch` number in the dispatches of one
 * node are the same buffer (e.g. the partial sums a reduction writes in its first dispatch and combines in
 * its second); it lives only across that node's dispatches, and the planner allocates it like an
 * activation (`bytes` is its size).
 */
export type Operand = { tensor: Tensor } | { external: ExternalBuffer } | { dummy: true; writable?: boolean } | { scratch: number; bytes: number };

export interface LoweredDispatch {
  kernel: KernelName;
  constants: Constants;
  /** Storage and step-uniform operands in binding order; the Params uniform is appended by the planner. */
  operands: Operand[];
  params: Record<string, number>;
  workgroups: [number, number, number];
}

export const MATMUL_BLOCK = 4;
/** The most classes shaders/linear_softmax_xent.wgsl holds in registers (its MAX_CLASSES). */
export const HEAD_MAX_CLASSES = 32;
export const MATMUL_WG = 8;

/**
 * The dropout kernels' Params: an element is dropped when its 32-bit hash is below round(rate · 2³²), so
 * it is kept with probability 1 − rate (to 2⁻³²); kept elements are scaled by 1 / (1 − rate).
 */
export function dropoutParams(count: number, rate: number, salt: number, alpha = 0): Record<string, number> {
  return { count, threshold: Math.min(0xffffffff, Math.round(rate * 2 ** 32)), scale: 1 / (1 - rate), salt, alpha };
}

const t = (tensor: Tensor): Operand => ({ tensor });
const kindOf = (name: unknown) => activationKinds[name as ActivationName];

/**
 * Every dispatch of one node, in order: none for views (reshape); one for most ops (`lower`); two for the
 * norm ops (src/kernels/lower_norm_pool.ts) and the reductions that split their work
 * (src/kernels/lower_reduce.ts), a partial-sums pass and a pass that combines them, sharing a scratch operand.
 */
export function lowerNode(node: Node): LoweredDispatch[] {
  const several = lowerNormPool(node) ?? lowerReduction(node);
  if (several) return several;
  const dispatch = lower(node);
  return dispatch ? [dispatch] : [];
}

/** The dispatch that runs `node`; undefined for views (reshape), which run nothing. */
export function lower(node: Node): LoweredDispatch | undefined {
  const attrs = node.attrs;
  switch (node.op) {
    case 'reshape':
      return undefined;
    case 'add': {
      const [a, b] = node.inputs;
      const out = node.outputs[0];
      return {
        kernel: 'add',
        constants: {},
        operands: [t(a), t(b), t(out)],
        params: { count: out.size },
        workgroups: grid1d(out.size, 256),
      };
    }
    case 'matmul': {
      // outputs: C, and with biasGrad (fused by src/scheduler/fuse.ts) D, the column sums of A = dY.
      const [a, b, e] = node.inputs;
      const [out, biasGrad] = node.outputs;
      const [m, n] = out.shape;
      const k = attrs.transA ? a.shape[0] : a.shape[1];
      const tile = MATMUL_BLOCK * MATMUL_WG;
      return {
        kernel: 'matmul',
        constants: {
          TRANS_A: !!attrs.transA,
          TRANS_B: !!attrs.transB,
          BIAS: !!e && !attrs.actGrad,
          ACT: attrs.act ? kindOf(attrs.act) : 0,
          ACT_GRAD: attrs.actGrad ? kindOf(attrs.actGrad) : 0,
          BIAS_GRAD: !!biasGrad,
          WG_X: MATMUL_WG,
          WG_Y: MATMUL_WG,
        },
        operands: [t(a), t(b), e ? t(e) : { dummy: true }, t(out), biasGrad ? t(biasGrad) : { dummy: true, writable: true }],
        params: { M: m, N: n, K: k, alpha: Number(attrs.alpha ?? 0) },
        workgroups: [Math.ceil(n / tile) + (biasGrad ? 1 : 0), Math.ceil(m / tile), 1],
      };
    }
    case 'activation':
    case 'activation_grad': {
      const forward = node.op === 'activation';
      const out = node.outputs[0];
      return {
        kernel: forward ? 'activationForward' : 'activationBackward',
        constants: { ACT: kindOf(attrs.kind) },
        operands: forward ? [t(node.inputs[0]), { dummy: true }, t(out)] : [t(node.inputs[0]), t(node.inputs[1]), t(out)],
        params: { count: out.size, alpha: Number(attrs.alpha ?? 0) },
        workgroups: grid1d(out.size, 256),
      };
    }
    case 'softmax': {
      const [logits] = node.inputs;
      return {
        kernel: 'softmax',
        constants: {},
        operands: [t(logits), t(node.outputs[0])],
        params: { rows: logits.shape[0], classes: logits.shape[1] },
        workgroups: grid1d(logits.shape[0], 64),
      };
    }
    case 'mixup_inputs': {
      const [x, step] = node.inputs;
      return {
        kernel: 'mixupInputs',
        constants: {},
        operands: [t(x), t(node.outputs[0]), t(step)],
        params: { rows: x.shape[0], features: x.shape[1] },
        workgroups: grid1d(x.size, 256),
      };
    }
    case 'dropout':
    case 'dropout_grad': {
      const [x, step, y] = node.inputs; // y: the activation output, present once fuse folded an activation_grad in
      const out = node.outputs[0];
      const rate = Number(attrs.rate);
      return {
        kernel: node.op === 'dropout' ? 'dropoutForward' : 'dropoutBackward',
        constants: { ACT_GRAD: attrs.actGrad ? kindOf(attrs.actGrad) : 0 },
        operands: [t(x), y ? t(y) : { dummy: true }, t(out), t(step)],
        params: dropoutParams(out.size, rate, Number(attrs.salt ?? 0), Number(attrs.alpha ?? 0)),
        workgroups: grid1d(out.size, 256),
      };
    }
    case 'gather': {
      const [perm, step, side, ...chunks] = node.inputs;
      const [x, rowsOut] = node.outputs;
      const rowWidth = Number(attrs.rowWidth);
      const base = {
        rows: x.shape[0],
        features: x.shape[1],
        scale: Number(attrs.scale ?? 1 / 255),
        shift: Number(attrs.shift ?? 0),
        rows_offset: Number(attrs.rowsOffset),
        row_width: rowWidth,
      };
      const constants = { PER_FEATURE: !!attrs.perFeature };
      const rowsInvocations = x.shape[0] * rowWidth;
      if (attrs.maxShift || attrs.maxRotate || attrs.noiseStd) {
        return {
          kernel: 'gatherAugment',
          constants,
          operands: [t(chunks[0]), t(perm), t(side), t(x), t(rowsOut), t(step)],
          params: {
            ...base,
            width: Number(attrs.width),
            height: Number(attrs.height),
            max_shift: Number(attrs.maxShift ?? 0),
            max_rotate: Number(attrs.maxRotate ?? 0),
            noise_std: Number(attrs.noiseStd ?? 0),
          },
          workgroups: grid1d(Math.max(x.size, rowsInvocations), 256),
        };
      }
      const float = !!attrs.float;
      const words = !float && x.shape[1] % 4 === 0;
      const chunkOperands: Operand[] = [0, 1, 2, 3].map((c) => (chunks[c] ? t(chunks[c]) : { dummy: true }));
      return {
        kernel: 'gather',
        constants: { ...constants, WORDS: words, FLOAT: float, CHUNKS: chunks.length },
        operands: [...chunkOperands, t(perm), t(side), t(x), t(rowsOut), t(step)],
        params: { ...base, samples_per_chunk: Number(attrs.samplesPerChunk) },
        workgroups: grid1d(Math.max(words ? x.size / 4 : x.size, rowsInvocations), 256),
      };
    }
    case 'conv2d':
    case 'conv2d_grad_input':
    case 'conv2d_grad_weight':
    case 'conv2d_grad_weight_reduce':
    case 'im2col':
    case 'col2im':
    case 'channels_first':
    case 'channels_last':
      return lowerConv(node)!;
  }
  throw new Error(`No kernel lowering for op '${node.op}'.`);
}

export { kernels };
