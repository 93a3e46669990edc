/**
 * How the batch-wide reductions run: the losses and their metrics, column sums and the diagnostics'
 * moments. Each is one dispatch where one workgroup (or one pass) does, and otherwise a first pass over
 * many workgroups that writes partials to a scratch buffer and a second that adds them in a fixed order,
 * so results are deterministic without atomics. Where the line falls is the node's reduction split
 * (src/kernels/reduction_split.ts): a GPU gets many workgroups, a CPU implementation of WebGPU one pass.
 *
 *   loss                       loss.wgsl → loss_reduce.wgsl (always: one workgroup per 64 rows)
 *   softmax_xent,              one workgroup adding into the metrics, or one per xentRows rows writing
 *   linear_softmax_xent,       loss.wgsl's partial layout → loss_reduce.wgsl
 *   mixup_targets
 *   column_sum                 one pass, or chunks of columnRows rows → partial_sum.wgsl
 *   moments                    one workgroup, or chunks of momentsElements → moments.combine
 */
import type { Node, Tensor } from '../graph/graph';
import { activationKinds, type ActivationName } from '../graph/ops';
import { grid1d } from './kernel';
import type { LoweredDispatch, Operand } from './lower';
import { splitValue } from './reduction_split';

/** Rows a workgroup of shaders/loss.wgsl takes (cross-entropy), and elements (the elementwise losses). */
export const LOSS_ROWS_PER_GROUP = 64;
export const LOSS_ELEMENTS_PER_GROUP = 256;
/** Values per workgroup in loss.wgsl's partial metrics (also the cross-entropy kernels' with PARTIALS). */
const PARTIAL_METRICS = 8;

const t = (tensor: Tensor): Operand => ({ tensor });
const kindOf = (name: unknown) => activationKinds[name as ActivationName];

const REDUCTION_OPS = new Set(['loss', 'softmax_xent', 'linear_softmax_xent', 'mixup_targets', 'column_sum', 'moments']);

/** The dispatches of a reduction node; undefined for every other op. */
export function lowerReduction(node: Node): LoweredDispatch[] | undefined {
  if (!REDUCTION_OPS.has(node.op)) return undefined;
  switch (node.op) {
    case 'loss':
      return lowerLoss(node);
    case 'column_sum':
      return lowerColumnSum(node);
    case 'moments':
      return lowerMoments(node);
    default:
      return lowerCrossEntropy(node);
  }
}

/** The pass that adds `groups` partial metrics into the accumulator, counting `rows` rows. */
function metricsReduce(partials: Operand, metrics: Tensor, groups: number, rows: number): LoweredDispatch {
  return { kernel: 'lossReduce', constants: {}, operands: [partials, t(metrics)], params: { groups, rows }, workgroups: [1, 1, 1] };
}

/**
 * The `loss` op: loss.wgsl over many workgroups (gradient, and each workgroup's partial metrics in a
 * scratch buffer), then loss_reduce.wgsl adds the partials into the metrics accumulator in a fixed order.
 */
function lowerLoss(node: Node): LoweredDispatch[] {
  const [outputs, truth, metrics, weights] = node.inputs;
  const attrs = node.attrs;
  const [rows, cols] = outputs.shape;
  const kind = Number(attrs.kind);
  const groups = kind === 0 ? Math.ceil(rows / LOSS_ROWS_PER_GROUP) : Math.ceil((rows * cols) / LOSS_ELEMENTS_PER_GROUP);
  const partials: Operand = { scratch: 0, bytes: 4 * PARTIAL_METRICS * groups };
  return [
    {
      kernel: 'loss',
      constants: { KIND: kind, WRITE_GRAD: attrs.training !== false, WEIGHTED: !!weights },
      operands: [t(outputs), t(truth), weights ? t(weights) : { dummy: true }, t(node.outputs[0]), partials],
      params: {
        rows,
        cols,
        smoothing: Number(attrs.smoothing ?? 0),
        weight_sum: Number(attrs.weightSum ?? cols),
        grad_scale: kind === 0 ? 1 / rows : 1 / (rows * cols),
        delta: Number(attrs.delta ?? 1),
        huber_scale: Number(attrs.huberScale ?? 1),
      },
      workgroups: grid1d(groups, 1),
    },
    metricsReduce(partials, metrics, groups, rows),
  ];
}

/**
 * softmax_xent, linear_softmax_xent and mixup_targets: rows split into workgroups of `xentRows` rows (one
 * workgroup when the split says 0 or the batch fits). With several, the kernel's metrics binding is the
 * partials buffer (PARTIALS) and loss_reduce adds it; mixup's correction adds no rows.
 */
function lowerCrossEntropy(node: Node): LoweredDispatch[] {
  const attrs = node.attrs;
  const rows = node.inputs[0].shape[0];
  const perGroup = splitValue(attrs, 'xentRows');
  const groups = perGroup > 0 ? Math.ceil(rows / perGroup) : 1;
  if (groups > 65535) throw new Error(`${node.op}: ${rows} rows need ${groups} workgroups of ${perGroup}, more than a dispatch holds.`);
  const split = groups > 1;
  const partials: Operand = { scratch: 0, bytes: 4 * PARTIAL_METRICS * groups };
  const rowsPerGroup = split ? perGroup : Math.max(rows, 1);
  const metricsOperand = (metrics: Tensor): Operand => (split ? partials : t(metrics));
  let first: LoweredDispatch;
  let metrics: Tensor;
  if (node.op === 'softmax_xent') {
    const [logits, labels, m] = node.inputs;
    metrics = m;
    first = {
      kernel: 'softmaxXent',
      constants: { WRITE_GRAD: attrs.training !== false, PARTIALS: split },
      operands: [t(logits), t(labels), t(node.outputs[0]), metricsOperand(m)],
      params: { rows, classes: logits.shape[1], grad_scale: 1 / rows, rows_per_group: rowsPerGroup },
      workgroups: [groups, 1, 1],
    };
  } else if (node.op === 'linear_softmax_xent') {
    const [h, w, bias, labels, m, v] = node.inputs;
    const [dlogits, dh] = node.outputs;
    metrics = m;
    first = {
      kernel: 'linearSoftmaxXent',
      constants: { WRITE_DH: !!dh, ACT_GRAD: attrs.actGrad ? kindOf(attrs.actGrad) : 0, PARTIALS: split },
      operands: [t(h), t(w), t(bias), t(labels), v ? t(v) : { dummy: true }, t(dlogits), dh ? t(dh) : { dummy: true, writable: true }, metricsOperand(m)],
      params: { rows, classes: w.shape[0], features: h.shape[1], grad_scale: 1 / rows, alpha: Number(attrs.alpha ?? 0), rows_per_group: rowsPerGroup },
      workgroups: [groups, 1, 1],
    };
  } else {
    const [logits, labels, dlogits, m, step] = node.inputs;
    metrics = m;
    first = {
      kernel: 'mixupTargets',
      constants: { PARTIALS: split },
      operands: [t(logits), t(labels), t(dlogits), t(node.outputs[0]), metricsOperand(m), t(step)],
      params: { rows, classes: logits.shape[1], grad_scale: 1 / rows, rows_per_group: rowsPerGroup },
      workgroups: [groups, 1, 1],
    };
  }
  if (!split) return [first];
  return [first, metricsReduce(partials, metrics, groups, node.op === 'mixup_targets' ? 0 : rows)];
}

/** Column sums in one pass, or in chunks of `columnRows` rows added by partial_sum.wgsl. */
function lowerColumnSum(node: Node): LoweredDispatch[] {
  const [x] = node.inputs;
  const [rows, cols] = x.shape;
  const out = node.outputs[0];
  const perChunk = splitValue(node.attrs, 'columnRows');
  const chunks = perChunk > 0 ? Math.ceil(rows / perChunk) : 1;
  const columns = grid1d(cols, 64);
  if (chunks === 1) {
    return [{ kernel: 'columnSum', constants: {}, operands: [t(x), t(out)], params: { rows, cols, chunk_rows: Math.max(rows, 1) }, workgroups: columns }];
  }
  if (chunks > 65535) throw new Error(`column_sum: ${rows} rows need ${chunks} chunks of ${perChunk}, more than a dispatch holds.`);
  const partials: Operand = { scratch: 0, bytes: 4 * chunks * cols };
  return [
    { kernel: 'columnSum', constants: {}, operands: [t(x), partials], params: { rows, cols, chunk_rows: perChunk }, workgroups: [columns[0], columns[1], chunks] },
    {
      kernel: 'partialSum',
      constants: {},
      operands: [partials, t(out), { dummy: true, writable: true }],
      params: { splits: chunks, count_a: cols, count_b: 0 },
      workgroups: grid1d(cols, 64),
    },
  ];
}

/** The statistics in one workgroup, or a summary per chunk of `momentsElements` and a combining pass. */
function lowerMoments(node: Node): LoweredDispatch[] {
  const [x] = node.inputs;
  const out = node.outputs[0];
  const perChunk = splitValue(node.attrs, 'momentsElements');
  const chunks = perChunk > 0 ? Math.ceil(x.size / perChunk) : 1;
  if (chunks === 1) {
    return [{ kernel: 'moments', constants: {}, operands: [t(x), t(out)], params: { count: x.size, chunk_len: Math.max(x.size, 1), chunks: 1 }, workgroups: [1, 1, 1] }];
  }
  const partials: Operand = { scratch: 0, bytes: 16 * chunks };
  const params = { count: x.size, chunk_len: perChunk, chunks };
  return [
    { kernel: 'moments', constants: {}, operands: [t(x), partials], params, workgroups: grid1d(chunks, 1) },
    { kernel: 'momentsCombine', constants: {}, operands: [partials, t(out)], params, workgroups: [1, 1, 1] },
  ];
}
