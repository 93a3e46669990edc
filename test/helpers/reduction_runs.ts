/**
 * One-node graphs of the row reductions, run as the planner lowers them under a reduction split (one pass,
 * or workgroup partials and a second pass): shared by their kernel tests and the property tests.
 */
import { Graph, type Tensor } from '../../src/graph/graph';
import type { ReductionSplit } from '../../src/kernels/reduction_split';
import type { HostArray } from './gpu';
import { runNode } from './run_node';

/** The softmax_xent node: dlogits (when `writeGrad`) and the 8-value metrics accumulator, starting from `metrics`. */
export async function runSoftmaxXent(logits: Float32Array, labels: Uint32Array, rows: number, classes: number, split: ReductionSplit, writeGrad: boolean, metrics: Float32Array) {
  const g = new Graph();
  const z = g.tensor([rows, classes], 'external', 'logits');
  const y = g.tensor([rows], 'external', 'labels', 'u32');
  const m = g.tensor([8], 'external', 'metrics');
  const [dz] = g.add('softmax_xent', [z, y, m], { training: writeGrad });
  const { written, dispatches } = await runNode(g.nodes[0], new Map<Tensor, HostArray>([[z, logits], [y, labels], [m, metrics]]), split);
  return { dlogits: written.get(dz) as Float32Array, metrics: written.get(m) as Float32Array, dispatches };
}

/** The column_sum node of a [rows, cols] matrix. */
export async function runColumnSum(x: Float32Array, rows: number, cols: number, split: ReductionSplit) {
  const g = new Graph();
  const xt = g.tensor([rows, cols], 'external', 'x');
  const [out] = g.add('column_sum', [xt]);
  const { written, dispatches } = await runNode(g.nodes[0], new Map<Tensor, HostArray>([[xt, x]]), split);
  return { sums: written.get(out) as Float32Array, dispatches };
}
