/**
 * How much work each thread of the engine's reductions does: the one knob that trades parallelism against
 * per-workgroup cost. A real GPU wants many workgroups (`GPU_SPLIT`: ~8 elements a thread, hundreds of
 * workgroups at the MNIST CNN's sizes, and a second pass or the consumer to add the partials); a CPU
 * implementation of WebGPU such as SwiftShader pays about half a millisecond per 256-thread workgroup with
 * barriers (its invocations are fibers switched at every barrier) and a dispatch for every second pass, so
 * it wants few, long-running ones (`CPU_SPLIT`). Results are deterministic for a given split; different
 * splits round differently (within the tests' tolerances). Nodes carry their split as attrs (see
 * `withReductionSplit`), so a plan stays a pure function of its nodes.
 */
import { adapterKindOf } from '../gpu/adapter_kind';

export interface ReductionSplit {
  /** Channel reductions (batch norm statistics, channel_sums): at least this many elements per lane. */
  laneElements: number;
  /** Row reductions (group, instance, layer norm): about this many elements per thread of a row. */
  rowThreadElements: number;
  /** Channels per workgroup of the channel reductions, at most (a power of two ≤ 256): for inner = 1, for inner > 1. */
  rowTile: number;
  planeTile: number;
  /**
   * Rows per workgroup of the cross-entropy kernels (softmax_xent, linear_softmax_xent, mixup_targets;
   * 64 invocations each); a batch with more rows runs several workgroups and loss_reduce.wgsl adds their
   * partial metrics. 0: one workgroup whatever the batch (no second pass).
   */
  xentRows: number;
  /** Rows per workgroup of column_sum; a taller matrix sums in chunks, then partial_sum.wgsl. 0: one pass. */
  columnRows: number;
  /** Elements per workgroup of moments (256 invocations); a larger tensor gets a combining pass. 0: one workgroup. */
  momentsElements: number;
}

export const GPU_SPLIT: ReductionSplit = {
  laneElements: 8,
  rowThreadElements: 8,
  rowTile: 64,
  planeTile: 1,
  xentRows: 256,
  columnRows: 256,
  momentsElements: 4096,
};
export const CPU_SPLIT: ReductionSplit = {
  laneElements: 512,
  rowThreadElements: 512,
  rowTile: 256,
  planeTile: 16,
  xentRows: 0,
  columnRows: 0,
  momentsElements: 0,
};

/** CPU implementations of WebGPU (src/gpu/adapter_kind.ts) get CPU_SPLIT; every other adapter GPU_SPLIT. */
export function splitForAdapter(adapterName: string): ReductionSplit {
  return adapterKindOf(adapterName) === 'cpu' ? CPU_SPLIT : GPU_SPLIT;
}

const REDUCTION_OPS = new Set([
  'batch_norm',
  'batch_norm_grad',
  'layer_norm',
  'layer_norm_grad',
  'group_norm',
  'group_norm_grad',
  'softmax_xent',
  'linear_softmax_xent',
  'mixup_targets',
  'column_sum',
  'moments',
]);

/** Copies of `nodes` whose reduction nodes carry `split` (the others unchanged). */
export function withReductionSplit<N extends { op: string; attrs: Record<string, unknown> }>(nodes: readonly N[], split: ReductionSplit): N[] {
  return nodes.map((n) => (REDUCTION_OPS.has(n.op) ? { ...n, attrs: { ...n.attrs, ...split } } : n));
}

/** The node's value of `key` (attrs set by withReductionSplit), GPU_SPLIT's if it has none. */
export function splitValue(attrs: Record<string, unknown>, key: keyof ReductionSplit): number {
  return Number(attrs[key] ?? GPU_SPLIT[key]);
}
