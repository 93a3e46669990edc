/**
 * Kernel records of the normalisation families: batch norm (shaders/batch_norm.wgsl), the per-channel
 * partial sums of the norm backward passes (shaders/channel_sums.wgsl), and group norm, which is also
 * instance norm and layer norm (shaders/group_norm.wgsl). Binding kinds are in binding order: inputs
 * `read`, outputs `write`, then the Params uniform; the layouts mirror each file's `struct Params`.
 */
import type { Kernel } from './kernel';
import { GPU_SPLIT, type ReductionSplit } from './reduction_split';
import { UniformLayout } from './uniform';

const batchNormParams = new UniformLayout('Params', [
  ['outer', 'u32'],
  ['channels', 'u32'],
  ['inner', 'u32'],
  ['chunk_len', 'u32'],
  ['chunks', 'u32'],
  ['eps', 'f32'],
  ['momentum', 'f32'],
]);

const channelSumsParams = new UniformLayout('Params', [
  ['outer', 'u32'],
  ['channels', 'u32'],
  ['inner', 'u32'],
  ['chunk_len', 'u32'],
  ['stat_stride', 'u32'],
  ['stat_group', 'u32'],
]);

const groupNormParams = new UniformLayout('Params', [
  ['rows', 'u32'],
  ['row_len', 'u32'],
  ['groups', 'u32'],
  ['spatial', 'u32'],
  ['channels', 'u32'],
  ['chunks', 'u32'],
  ['eps', 'f32'],
]);

export const normKernels = {
  /** Training pass 1: (mean, M2) of each (chunk, channel) → partials. */
  batchNormStats: {
    name: 'batch_norm.stats',
    files: ['batch_norm.wgsl'],
    entryPoint: 'stats',
    bindings: ['read', 'write', 'uniform'],
    params: batchNormParams,
  },
  /** Training pass 2: x, γ, β, partials → running statistics (updated in place), y, mean, rstd. */
  batchNormForward: {
    name: 'batch_norm.forward',
    files: ['batch_norm.wgsl'],
    entryPoint: 'forward',
    bindings: ['read', 'read', 'read', 'read', 'write', 'write', 'write', 'write', 'write', 'uniform'],
    params: batchNormParams,
  },
  /** Evaluation: x, γ, β, running statistics (read only) → y, mean, rstd. */
  batchNormEval: {
    name: 'batch_norm.forward_eval',
    files: ['batch_norm.wgsl'],
    entryPoint: 'forward_eval',
    bindings: ['read', 'read', 'read', 'read', 'read', 'write', 'write', 'write', 'uniform'],
    params: batchNormParams,
  },
  /** Backward pass 2: dy, x, mean, rstd, γ, partials (from channelSums) → dx, dγ, dβ. */
  batchNormBackward: {
    name: 'batch_norm.backward',
    files: ['batch_norm.wgsl'],
    entryPoint: 'backward',
    bindings: ['read', 'read', 'read', 'read', 'read', 'read', 'write', 'write', 'write', 'uniform'],
    params: batchNormParams,
  },
  /** Backward pass 1 of batch and group norm: dy, x, mean, rstd → partials (Σdy, Σdy·x̂ per chunk and channel). */
  channelSums: {
    name: 'channel_sums',
    files: ['channel_sums.wgsl'],
    entryPoint: 'main',
    bindings: ['read', 'read', 'read', 'read', 'write', 'uniform'],
    params: channelSumsParams,
  },
  /** Group / instance / layer norm forward: x, γ, β → y, mean, rstd (one row per (sample, group)). */
  groupNormForward: {
    name: 'group_norm.forward',
    files: ['group_norm.wgsl'],
    entryPoint: 'forward',
    bindings: ['read', 'read', 'read', 'write', 'write', 'write', 'uniform'],
    params: groupNormParams,
  },
  /** Group / instance / layer norm backward pass 2: dy, x, mean, rstd, γ, partials → dx, dγ, dβ. */
  groupNormBackward: {
    name: 'group_norm.backward',
    files: ['group_norm.wgsl'],
    entryPoint: 'backward',
    bindings: ['read', 'read', 'read', 'read', 'read', 'read', 'write', 'write', 'write', 'uniform'],
    params: groupNormParams,
  },
} satisfies Record<string, Kernel>;

/** Threads of a workgroup in the norm kernels (the size of their workgroup arrays). */
export const NORM_WORKGROUP = 256;

/**
 * How the channel reductions (batch norm's statistics, channel_sums) split x [outer, C, inner]: a
 * workgroup per (tile of `tile` channels, chunk of `chunkLen` elements of each), `lanes` threads per
 * channel. inner = 1 takes up to 64 adjacent channels (coalesced along a row); inner > 1 one channel
 * (coalesced along its planes). Each lane handles about max(laneElements, √M / lanes) elements, which
 * balances the chunk's work against the P partials every workgroup of the second pass combines
 * (M = outer·inner).
 */
export function channelChunking(outer: number, channels: number, inner: number, split: Partial<ReductionSplit> = {}) {
  const { laneElements, rowTile, planeTile } = { ...GPU_SPLIT, ...split };
  const tile = inner === 1 ? (rowTile === NORM_WORKGROUP ? rowTile : Math.min(rowTile, 2 ** Math.ceil(Math.log2(channels)))) : Math.min(planeTile, 2 ** Math.ceil(Math.log2(channels)));
  const lanes = NORM_WORKGROUP / tile;
  const elements = outer * inner;
  const perLane = Math.max(laneElements, Math.ceil(Math.sqrt(elements) / lanes));
  const chunkLen = lanes * perLane;
  const chunks = Math.ceil(elements / chunkLen);
  return { tile, lanes, chunkLen, chunks, workgroups: [Math.ceil(channels / tile), chunks, 1] as [number, number, number] };
}

/** Threads per row of the group-norm kernels: a power of two from 1 to 256, about `elements` elements a thread. */
export function rowThreads(rowLength: number, elements = GPU_SPLIT.rowThreadElements): number {
  return Math.min(NORM_WORKGROUP, 2 ** Math.ceil(Math.log2(Math.ceil(rowLength / elements))));
}
