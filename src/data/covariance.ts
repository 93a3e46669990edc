/**
 * The first and second moments of a GPU-resident dataset's preprocessed inputs, for PCA and whitening
 * (src/data/projection.ts): Σx and XᵀX over all samples. The O(n·F²) work runs on the GPU as the engine's
 * own graph, batch by batch: the input stage's gather (the same preprocessing as training, no
 * augmentation), a matmul Xᵀ·X and a column sum. Each batch's sums come back and are added up on the CPU
 * in float64, so float32 rounding grows only with the batch, never with the dataset.
 */
import type { GpuResources } from '../gpu/resources';
import { externalBuffer, Graph } from '../graph/graph';
import { tuneMatmuls, type AutotuneOptions } from '../kernels/autotune';
import { matmulRequestsOf } from '../kernels/matmul_plan';
import { splitForAdapter, withReductionSplit } from '../kernels/reduction_split';
import { readFloats } from '../gpu/readback';
import { ParameterArena } from '../nn/parameters';
import { Executable, type BufferBindings } from '../scheduler/executable';
import { fuse } from '../scheduler/fuse';
import { planStep, type Plan } from '../scheduler/plan';
import { stepLayout } from '../kernels/catalog';
import { packStepTable, STEP_STRIDE } from '../train/training_state';
import type { GpuDataset } from './gpu_dataset';
import { buildInputStage } from './input_stage';

export interface Moments {
  count: number;
  features: number;
  /** Σ x_f over samples. */
  sum: Float64Array;
  /** Σ x_f·x_g over samples, F×F row-major. */
  outer: Float64Array;
}

/** Samples per GPU pass: K of the Xᵀ·X product (float32 sums over this many terms). */
const BATCH = 2048;

/**
 * `projected`: the moments of the inputs after the dataset's projection (tests check a whitening with
 * them; `bindings` then holds the projection's buffers); by default, of the inputs before it (what a
 * projection is fitted to).
 */
export async function datasetMoments(
  resources: GpuResources,
  dataset: GpuDataset,
  options: { autotune?: boolean | AutotuneOptions; projected?: boolean; bindings?: BufferBindings } = {},
): Promise<Moments> {
  const { autotune = true, projected = false } = options;
  const source = { ...dataset.source, augment: undefined, projection: projected ? dataset.source.projection : undefined };
  const count = source.count;
  const features = source.projection?.components ?? source.features;
  const rows = Math.min(BATCH, count);
  const batches = Math.ceil(count / rows);
  const step = externalBuffer('moments.step', stepLayout.byteSize, true);
  const table = externalBuffer('moments.steps', batches * STEP_STRIDE);
  const layout = { params: new ParameterArena([]), paramsBuffer: externalBuffer('moments.params', 4), gradsBuffer: externalBuffer('moments.grads', 4) };
  const planFor = (n: number) => {
    const g = new Graph();
    const stepTensor = g.external(step, [stepLayout.byteSize / 4], 'u32');
    const { x } = buildInputStage(g, source, n, false, stepTensor, [features]);
    const [outer] = g.add('matmul', [x, x], { transA: true, name: 'xtx' });
    const [sum] = g.add('column_sum', [x], { name: 'xsum' });
    outer.keep = true;
    sum.keep = true;
    const nodes = withReductionSplit(fuse(g.nodes), splitForAdapter(resources.gpu.adapterName));
    return { plan: (tuning = {}) => planStep(nodes, layout, { stepValues: { table, step, stride: STEP_STRIDE }, tuning }), outer: outer.id, sum: sum.id };
  };
  const rowsOf = (b: number) => Math.min(rows, count - b * rows);
  const bindings = new Map<typeof step, GPUBuffer>([
    ...(options.bindings ?? []),
    ...dataset.buffers,
    [step, resources.createBuffer(step.name, step.bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST)],
    [table, resources.createStorage(table.name, new Uint8Array(packStepTable(Array.from({ length: batches }, (_, b) => ({ step: b, batchStart: b * rows, seed: 0, mixLambda: 1, lr: 0 })))))],
  ]);
  dataset.setOrder(Uint32Array.from({ length: count }, (_, i) => i));
  const moments: Moments = { count, features, sum: new Float64Array(features), outer: new Float64Array(features * features) };
  // One plan per batch size (the full batch, and a partial last one), each tuned and compiled once.
  const executables = new Map<number, { executable: Executable; outer: number; sum: number }>();
  try {
    for (let b = 0; b < batches; b++) {
      const n = rowsOf(b);
      let entry = executables.get(n);
      if (!entry) {
        const planned = planFor(n);
        let plan: Plan = planned.plan();
        if (autotune !== false) plan = planned.plan(await tuneMatmuls(resources, matmulRequestsOf(plan), typeof autotune === 'object' ? autotune : {}));
        entry = { executable: await Executable.create(resources, plan, bindings, `moments[${n}]`), outer: planned.outer, sum: planned.sum };
        executables.set(n, entry);
      }
      const encoder = resources.device.createCommandEncoder();
      entry.executable.encode(encoder, b);
      resources.device.queue.submit([encoder.finish()]);
      // The next batch reuses these buffers, so it waits for this readback (a few MB per 2,048 samples).
      for (const [id, into] of [[entry.outer, moments.outer], [entry.sum, moments.sum]] as const) {
        const at = entry.executable.locate(id);
        const values = await readFloats(resources, at.buffer, at.offset, at.size / 4);
        for (let i = 0; i < into.length; i++) into[i] += values[i];
      }
    }
  } finally {
    executables.forEach((e) => e.executable.destroy());
    for (const handle of [step, table]) resources.destroyBuffer(bindings.get(handle)!);
  }
  resources.gpu.check();
  return moments;
}
