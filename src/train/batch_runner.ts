/**
 * Runs a model over one GPU-resident dataset in batches: a static plan for full batches plus, when the
 * dataset size is not a multiple of the batch, a second plan for the last partial batch (so it is
 * trained or evaluated too, never dropped). Both plans are built up front; running creates nothing.
 */
import { appendBackward } from '../graph/autodiff';
import type { GpuResources } from '../gpu/resources';
import { stepLayout } from '../kernels/catalog';
import { mixupLambda } from '../data/mixup';
import type { LoweredDispatch } from '../kernels/lower';
import { buildMlpGraph, checkTrainingBatches, type MlpConfig } from '../nn/mlp';
import type { ParameterArena } from '../nn/parameters';
import type { GpuDataset } from '../data/gpu_dataset';
import { fuse } from '../scheduler/fuse';
import { planStep, type Plan } from '../scheduler/plan';
import { Executable } from '../scheduler/executable';
import { adoptMatmulVariants, tuneMatmuls, type AutotuneOptions } from '../kernels/autotune';
import { splitForAdapter, withReductionSplit, type ReductionSplit } from '../kernels/norm';

export interface RunnerSetup {
  model: MlpConfig;
  arena: ParameterArena;
  dataset: GpuDataset;
  batchSize: number;
  training: boolean;
  /** Dispatches appended to every training step (the optimizer). */
  update?: LoweredDispatch[];
  /** Every external buffer the plans bind, the dataset's included. */
  externals: Record<string, GPUBuffer>;
  /**
   * Pick each matmul's fastest verified variant on this adapter (src/kernels/autotune.ts) before the plans
   * are instantiated. Default true; false keeps the reference kernel everywhere.
   */
  autotune?: boolean | AutotuneOptions;
  /** How the norm reductions split their work (src/kernels/norm.ts); BatchRunner.create picks it from the adapter. */
  reductionSplit?: ReductionSplit;
}

export function planFor(setup: Omit<RunnerSetup, 'externals'>, rows: number): Plan {
  const { graph, lossNode } = buildMlpGraph(setup.model, rows, setup.dataset.source, setup.training);
  if (setup.training) appendBackward(graph, lossNode);
  const nodes = fuse(graph.nodes);
  return planStep(setup.reductionSplit ? withReductionSplit(nodes, setup.reductionSplit) : nodes, setup.arena, setup.training ? setup.update : []);
}

export class BatchRunner {
  private constructor(
    readonly setup: RunnerSetup,
    readonly full: Executable | undefined,
    readonly tail: Executable | undefined,
  ) {}

  static async create(resources: GpuResources, runnerSetup: RunnerSetup): Promise<BatchRunner> {
    const setup = { ...runnerSetup, reductionSplit: runnerSetup.reductionSplit ?? splitForAdapter(resources.gpu.adapterName) };
    const count = setup.dataset.data.count;
    if (setup.training) checkTrainingBatches(setup.model, count, setup.batchSize);
    const batch = Math.min(setup.batchSize, count);
    const tailRows = count % batch;
    const label = `${setup.dataset.name}${setup.training ? '.train' : '.eval'}`;
    const tune = (plan: Plan) => (setup.autotune === false ? plan : tuneMatmuls(resources, plan, typeof setup.autotune === 'object' ? setup.autotune : {}));
    const fullPlan = count >= batch ? await tune(planFor(setup, batch)) : undefined;
    // The tail runs once an epoch: it takes the full plan's variants where they fit instead of being timed.
    const tailPlan = !tailRows ? undefined : fullPlan ? adoptMatmulVariants(fullPlan, planFor(setup, tailRows)) : await tune(planFor(setup, tailRows));
    const [full, tail] = await Promise.all([
      fullPlan ? Executable.create(resources, fullPlan, setup.externals, `${label}[${batch}]`) : undefined,
      tailPlan ? Executable.create(resources, tailPlan, setup.externals, `${label}[${tailRows}]`) : undefined,
    ]);
    return new BatchRunner(setup, full, tail);
  }

  get batchSize(): number {
    return Math.min(this.setup.batchSize, this.setup.dataset.data.count);
  }

  get steps(): number {
    return Math.ceil(this.setup.dataset.data.count / this.batchSize);
  }

  /**
   * Records batch `index` into `encoder`. The caller writes the step uniform first (see `stepUniform`),
   * because a queue write lands before the command buffer submitted after it.
   */
  encode(encoder: GPUCommandEncoder, index: number): void {
    const pass = encoder.beginComputePass();
    this.executableFor(index).encode(pass);
    pass.end();
  }

  /** The executable that runs batch `index` (the tail plan for the last partial batch). */
  executableFor(index: number): Executable {
    const isTail = (index + 1) * this.batchSize > this.setup.dataset.data.count;
    return (isTail ? this.tail : this.full)!;
  }

  stepUniform(index: number, globalStep: number, seed: number): ArrayBuffer {
    const alpha = this.setup.training ? (this.setup.dataset.source.augment?.mixup ?? 0) : 0;
    return stepLayout.pack({ step: globalStep, batch_start: index * this.batchSize, seed, mix_lambda: mixupLambda(alpha, seed, globalStep) });
  }

  destroy(): void {
    this.full?.destroy();
    this.tail?.destroy();
  }
}
