/**
 * How the norm and pooling ops run on the GPU (see src/graph/ops_norm_pool.ts for the ops). A norm op
 * whose reduction must fill a GPU lowers to two dispatches: many workgroups write partial results into a
 * scratch operand (`{ scratch: 0 }`), and the second dispatch combines them and writes the outputs. The
 * planner gives each scratch number of a node one buffer that lives only across the node's dispatches.
 *
 *   batch_norm (training)  batchNormStats → batchNormForward      scratch 0: partials, 8·P·C bytes
 *   batch_norm (eval)      batchNormEval
 *   batch_norm_grad        channelSums → batchNormBackward        scratch 0: partials, 8·P·C bytes
 *   group_norm, layer_norm groupNormForward
 *   group_norm_grad,       channelSums → groupNormBackward        (with γ)
 *   layer_norm_grad        groupNormBackward                      (without γ; dγ, dβ slots: 16-byte scratch 1, 2)
 *   max/avg_pool2d(_grad)  maxPool/avgPool Forward/Backward
 */
import type { Node, Tensor } from '../graph/graph';
import { BATCH_NORM_MOMENTUM, NORM_EPS } from '../graph/ops';
import { channelView, groupNormView, layerNormView, poolGeometry } from '../graph/ops_norm_pool';
import { grid1d } from './kernel';
import type { LoweredDispatch, Operand } from './lower';
import { channelChunking, NORM_WORKGROUP, rowThreads } from './norm';
import { splitValue, type ReductionSplit } from './reduction_split';

const t = (tensor: Tensor): Operand => ({ tensor });
/** The node's channel-reduction split (src/kernels/reduction_split.ts withReductionSplit), GPU_SPLIT's by default. */
const splitOf = (node: Node): Pick<ReductionSplit, 'laneElements' | 'rowTile' | 'planeTile'> => ({
  laneElements: splitValue(node.attrs, 'laneElements'),
  rowTile: splitValue(node.attrs, 'rowTile'),
  planeTile: splitValue(node.attrs, 'planeTile'),
});
const rowThreadsOf = (node: Node, rowLength: number) => rowThreads(rowLength, splitValue(node.attrs, 'rowThreadElements'));
const dummy: Operand = { dummy: true };

/** Group norm's view of x as rows; layer norm is one group of F channels with no spatial extent. */
interface RowView {
  /** x as [outer, channels, inner] for the per-channel dγ/dβ partials. */
  outer: number;
  channels: number;
  inner: number;
  groups: number;
}

function rowNormParams(v: RowView, eps: number, chunks = 0): Record<string, number> {
  const rowLen = (v.channels / v.groups) * v.inner;
  return { rows: v.outer * v.groups, row_len: rowLen, groups: v.groups, spatial: v.inner, channels: v.channels, chunks, eps };
}

function rowNormForward(node: Node, v: RowView): LoweredDispatch[] {
  const [x, gamma, beta] = node.inputs;
  const [y, mean, rstd] = node.outputs;
  const params = rowNormParams(v, Number(node.attrs.eps ?? NORM_EPS));
  const threads = rowThreadsOf(node, params.row_len);
  return [
    {
      kernel: 'groupNormForward',
      constants: { ROW_THREADS: threads, AFFINE: !!gamma },
      operands: [t(x), gamma ? t(gamma) : dummy, beta ? t(beta) : dummy, t(y), t(mean), t(rstd)],
      params,
      workgroups: grid1d(params.rows, NORM_WORKGROUP / threads),
    },
  ];
}

function rowNormBackward(node: Node, v: RowView): LoweredDispatch[] {
  const [dy, x, mean, rstd, gamma] = node.inputs;
  const [dx, dgamma, dbeta] = node.outputs;
  const affine = !!gamma;
  const split = channelChunking(v.outer, v.channels, v.inner, splitOf(node));
  const params = rowNormParams(v, 0, affine ? split.chunks : 0);
  const threads = rowThreadsOf(node, params.row_len);
  const rowGroups = Math.ceil(params.rows / (NORM_WORKGROUP / threads));
  const combineGroups = affine ? Math.ceil(v.channels / NORM_WORKGROUP) : 0;
  const partials: Operand = { scratch: 0, bytes: 8 * split.chunks * v.channels };
  const backward: LoweredDispatch = {
    kernel: 'groupNormBackward',
    constants: { ROW_THREADS: threads, AFFINE: affine },
    operands: affine
      ? [t(dy), t(x), t(mean), t(rstd), t(gamma), partials, t(dx), t(dgamma), t(dbeta)]
      : // Without γ the dγ/dβ slots are never written; they still need writable buffers of their own.
        [t(dy), t(x), t(mean), t(rstd), dummy, dummy, t(dx), { scratch: 1, bytes: 16 }, { scratch: 2, bytes: 16 }],
    params,
    workgroups: grid1d(rowGroups + combineGroups, 1),
  };
  if (!affine) return [backward];
  const sums: LoweredDispatch = {
    kernel: 'channelSums',
    constants: { TILE_CHANNELS: split.tile },
    operands: [t(dy), t(x), t(mean), t(rstd), partials],
    params: { outer: v.outer, channels: v.channels, inner: v.inner, chunk_len: split.chunkLen, stat_stride: v.groups, stat_group: v.channels / v.groups },
    workgroups: split.workgroups,
  };
  return [sums, backward];
}

function poolParams(node: Node, x: Tensor, fromGrad: boolean): Record<string, number> {
  const g = poolGeometry(node.op, x, node.attrs, fromGrad);
  return {
    planes: g.planes,
    in_h: g.inH,
    in_w: g.inW,
    out_h: g.outH,
    out_w: g.outW,
    kernel_h: g.kernelH,
    kernel_w: g.kernelW,
    stride_h: g.strideH,
    stride_w: g.strideW,
    pad_h: g.padH,
    pad_w: g.padW,
  };
}

/** The dispatches of a norm or pooling node, or undefined for any other op. */
export function lowerNormPool(node: Node): LoweredDispatch[] | undefined {
  const attrs = node.attrs;
  switch (node.op) {
    case 'batch_norm': {
      const [x, gamma, beta, runningMean, runningVar] = node.inputs;
      const [y, mean, rstd] = node.outputs;
      const { outer, channels, inner } = channelView(node.op, x);
      const eps = Number(attrs.eps ?? NORM_EPS);
      const momentum = Number(attrs.momentum ?? BATCH_NORM_MOMENTUM);
      if (attrs.training === false) {
        return [
          {
            kernel: 'batchNormEval',
            constants: {},
            operands: [t(x), t(gamma), t(beta), t(runningMean), t(runningVar), t(y), t(mean), t(rstd)],
            params: { outer, channels, inner, chunk_len: 0, chunks: 0, eps, momentum },
            workgroups: grid1d(x.size, NORM_WORKGROUP),
          },
        ];
      }
      const split = channelChunking(outer, channels, inner, splitOf(node));
      const partials: Operand = { scratch: 0, bytes: 8 * split.chunks * channels };
      const params = { outer, channels, inner, chunk_len: split.chunkLen, chunks: split.chunks, eps, momentum };
      const constants = { TILE_CHANNELS: split.tile };
      return [
        { kernel: 'batchNormStats', constants, operands: [t(x), partials], params, workgroups: split.workgroups },
        {
          kernel: 'batchNormForward',
          constants,
          operands: [t(x), t(gamma), t(beta), partials, t(runningMean), t(runningVar), t(y), t(mean), t(rstd)],
          params,
          workgroups: split.workgroups,
        },
      ];
    }
    case 'batch_norm_grad': {
      const [dy, x, mean, rstd, gamma] = node.inputs;
      const [dx, dgamma, dbeta] = node.outputs;
      const { outer, channels, inner } = channelView(node.op, x);
      const split = channelChunking(outer, channels, inner, splitOf(node));
      const partials: Operand = { scratch: 0, bytes: 8 * split.chunks * channels };
      const constants = { TILE_CHANNELS: split.tile };
      return [
        {
          kernel: 'channelSums',
          constants,
          operands: [t(dy), t(x), t(mean), t(rstd), partials],
          params: { outer, channels, inner, chunk_len: split.chunkLen, stat_stride: 0, stat_group: 1 },
          workgroups: split.workgroups,
        },
        {
          kernel: 'batchNormBackward',
          constants,
          operands: [t(dy), t(x), t(mean), t(rstd), t(gamma), partials, t(dx), t(dgamma), t(dbeta)],
          params: { outer, channels, inner, chunk_len: split.chunkLen, chunks: split.chunks, eps: 0, momentum: 0 },
          workgroups: split.workgroups,
        },
      ];
    }
    case 'layer_norm':
    case 'layer_norm_grad': {
      const x = node.op === 'layer_norm' ? node.inputs[0] : node.inputs[1];
      const { rows, features } = layerNormView(node.op, x, attrs);
      const view = { outer: rows, channels: features, inner: 1, groups: 1 };
      return node.op === 'layer_norm' ? rowNormForward(node, view) : rowNormBackward(node, view);
    }
    case 'group_norm':
    case 'group_norm_grad': {
      const x = node.op === 'group_norm' ? node.inputs[0] : node.inputs[1];
      const { batch, channels, spatial, groups } = groupNormView(node.op, x, attrs);
      const view = { outer: batch, channels, inner: spatial, groups };
      return node.op === 'group_norm' ? rowNormForward(node, view) : rowNormBackward(node, view);
    }
    case 'max_pool2d': {
      const [x] = node.inputs;
      const [y, indices] = node.outputs;
      return [{ kernel: 'maxPoolForward', constants: {}, operands: [t(x), t(y), t(indices)], params: poolParams(node, x, false), workgroups: grid1d(y.size, 256) }];
    }
    case 'max_pool2d_grad': {
      const [dy, indices] = node.inputs;
      const [dx] = node.outputs;
      return [{ kernel: 'maxPoolBackward', constants: {}, operands: [t(dy), t(indices), t(dx)], params: poolParams(node, dy, true), workgroups: grid1d(dx.size, 256) }];
    }
    case 'avg_pool2d': {
      const [x] = node.inputs;
      const [y] = node.outputs;
      return [{ kernel: 'avgPoolForward', constants: {}, operands: [t(x), t(y)], params: poolParams(node, x, false), workgroups: grid1d(y.size, 256) }];
    }
    case 'avg_pool2d_grad': {
      const [dy] = node.inputs;
      const [dx] = node.outputs;
      return [{ kernel: 'avgPoolBackward', constants: {}, operands: [t(dy), t(dx)], params: poolParams(node, dy, true), workgroups: grid1d(dx.size, 256) }];
    }
    default:
      return undefined;
  }
}
