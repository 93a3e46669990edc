/**
 * Runs one graph node on the GPU exactly as the planner would lower it (src/kernels/lower.ts lowerNode:
 * the same kernels, override constants, Params and workgroup counts), dispatch by dispatch through
 * `runKernel`, so every output, and every scratch buffer a first dispatch writes, is poisoned (NaN, or
 * 0xdeadbeef for u32) before the dispatch that must fill it. Scratch contents travel to the next
 * dispatch through the host. Inputs a kernel also writes (batch norm's running statistics) start from
 * their given values and come back updated.
 */
import type { Node, Tensor } from '../../src/graph/graph';
import { kernels } from '../../src/kernels/catalog';
import { lowerNode } from '../../src/kernels/lower';
import { CPU_SPLIT, GPU_SPLIT, withReductionSplit, type ReductionSplit } from '../../src/kernels/reduction_split';
import { runKernel, type Arg, type HostArray } from './gpu';

export interface NodeRun {
  /** Every tensor a dispatch wrote (the node's outputs, and inputs written in place), by tensor. */
  written: Map<Tensor, HostArray>;
  /** Scratch buffers as their writer left them, by scratch number. */
  scratch: Map<number, HostArray>;
  dispatches: number;
}

/** `split`: the reduction split (src/kernels/reduction_split.ts), the lowering's default (GPU_SPLIT) if absent. */
export async function runNode(node: Node, values: Map<Tensor, HostArray>, split?: ReductionSplit): Promise<NodeRun> {
  const written = new Map<Tensor, HostArray>();
  const scratch = new Map<number, HostArray>();
  const dispatches = lowerNode(split ? withReductionSplit([node], split)[0] : node);
  for (const d of dispatches) {
    const kinds = kernels[d.kernel].bindings;
    const targets: ({ tensor: Tensor } | { scratch: number })[] = [];
    const args: Arg[] = d.operands.map((operand, i): Arg => {
      const writes = kinds[i] === 'write';
      if ('tensor' in operand) {
        const tensor = operand.tensor;
        const known = written.get(tensor) ?? values.get(tensor);
        if (!writes) {
          if (!known) throw new Error(`runNode: no value for input ${tensor}`);
          return { data: known, uniform: kinds[i] === 'uniform' };
        }
        targets.push({ tensor });
        return { output: tensor.size, dtype: tensor.dtype, initial: node.outputs.includes(tensor) ? undefined : known };
      }
      if ('scratch' in operand) {
        if (!writes) return { data: scratch.get(operand.scratch)! };
        targets.push({ scratch: operand.scratch });
        return { output: operand.bytes / 4 };
      }
      if ('dummy' in operand) return { data: new Float32Array(4) };
      throw new Error(`runNode: external operand ${operand.external} is not supported`);
    });
    const results = await runKernel(d.kernel, d.constants, args, d.params, d.workgroups);
    results.forEach((result, i) => {
      const target = targets[i];
      if ('tensor' in target) written.set(target.tensor, result);
      else scratch.set(target.scratch, result);
    });
  }
  return { written, scratch, dispatches: dispatches.length };
}

/** Both reduction splits: every norm kernel test runs under each (different tiles, lanes, chunks and row threads). */
export const SPLITS: readonly (readonly [string, ReductionSplit])[] = [
  ['gpu', GPU_SPLIT],
  ['cpu', CPU_SPLIT],
];

/**
 * The longest run of sequential steps one thread of the node's reductions takes (Welford's updates or a
 * partial sum's additions), under `split`: what the norm tolerances' reduction path charges for.
 */
export function longestRun(node: Node, split?: ReductionSplit): number {
  const dispatches = lowerNode(split ? withReductionSplit([node], split)[0] : node);
  return Math.max(
    ...dispatches.map((d) => {
      if ('TILE_CHANNELS' in d.constants) return Math.ceil(d.params.chunk_len / (256 / Number(d.constants.TILE_CHANNELS)));
      if ('ROW_THREADS' in d.constants) return Math.max(Math.ceil(d.params.row_len / Number(d.constants.ROW_THREADS)), d.params.chunks);
      return 1;
    }),
  );
}
