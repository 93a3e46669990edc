/**
 * Runs a model over one GPU-resident dataset in batches: a static plan for full batches plus, when the
 * dataset size is not a multiple of the batch, a second plan for the last partial batch (so it is
 * trained or evaluated too, never dropped). Both plans are built up front; running creates nothing.
 * Every step first copies its entry of a step table (batch start, step number, learning rate, seeds)
 * into the step uniform, so any number of steps can be encoded into one command buffer.
 */
import type { GpuResources } from '../gpu/resources';
import type { ExternalBuffer } from '../graph/graph';
import type { LoweredDispatch } from '../kernels/lower';
import type { BatchSource } from '../data/gpu_dataset';
import type { Model } from '../nn/model';
import { fuse } from '../scheduler/fuse';
import { planStep, type ArenaLayout, type Plan } from '../scheduler/plan';
import { Executable, type BufferBindings } from '../scheduler/executable';
import { adoptMatmulVariants, tuneMatmuls, type AutotuneOptions } from '../kernels/autotune';
import { buildStepGraph } from './step_graph';
import { STEP_STRIDE } from './training_state';

export interface RunnerSetup {
  model: Model;
  source: BatchSource;
  batchSize: number;
  training: boolean;
  layout: ArenaLayout;
  /** The step uniform, and the table its values are copied from (one entry per step of an epoch). */
  step: ExternalBuffer;
  stepTable: ExternalBuffer;
  /** Dispatches appended to every training step (the optimizer). */
  update?: readonly LoweredDispatch[];
  frozen?: ReadonlySet<string>;
  /**
   * Pick each matmul's fastest verified variant on this adapter (src/kernels/autotune.ts) before the plans
   * are instantiated. Default true; false keeps the reference kernel everywhere.
   */
  autotune?: boolean | AutotuneOptions;
}

/** The plan of one step over `rows` samples (reference kernels, before tuning). */
export function planFor(setup: RunnerSetup, rows: number): Plan {
  const { graph } = buildStepGraph(setup, rows);
  return planStep(fuse(graph.nodes), setup.layout, {
    extra: setup.training ? setup.update : [],
    stepValues: { table: setup.stepTable, step: setup.step, stride: STEP_STRIDE },
  });
}

export class BatchRunner {
  private constructor(
    readonly setup: RunnerSetup,
    readonly full: Executable | undefined,
    readonly tail: Executable | undefined,
  ) {}

  /** `bindings` must hold every external buffer the plans bind (arenas, dataset, step table). */
  static async create(resources: GpuResources, setup: RunnerSetup, bindings: BufferBindings): Promise<BatchRunner> {
    const count = setup.source.count;
    const batch = Math.min(setup.batchSize, count);
    const tailRows = count % batch;
    const label = `${setup.source.name}${setup.training ? '.train' : '.eval'}`;
    const tune = (plan: Plan) => (setup.autotune === false ? plan : tuneMatmuls(resources, plan, typeof setup.autotune === 'object' ? setup.autotune : {}));
    const fullPlan = count >= batch ? await tune(planFor(setup, batch)) : undefined;
    // The tail runs once an epoch: it takes the full plan's variants where they fit instead of being timed.
    const tailPlan = !tailRows ? undefined : fullPlan ? adoptMatmulVariants(fullPlan, planFor(setup, tailRows)) : await tune(planFor(setup, tailRows));
    const [full, tail] = await Promise.all([
      fullPlan ? Executable.create(resources, fullPlan, bindings, `${label}[${batch}]`) : undefined,
      tailPlan ? Executable.create(resources, tailPlan, bindings, `${label}[${tailRows}]`) : undefined,
    ]);
    return new BatchRunner(setup, full, tail);
  }

  get batchSize(): number {
    return Math.min(this.setup.batchSize, this.setup.source.count);
  }

  get steps(): number {
    return Math.ceil(this.setup.source.count / this.batchSize);
  }

  /** Rows in batch `index` (the last one may be partial). */
  rows(index: number): number {
    return Math.min(this.batchSize, this.setup.source.count - index * this.batchSize);
  }

  /** Records batch `index`: its step values are entry `index` of the step table. */
  encode(encoder: GPUCommandEncoder, index: number): void {
    this.executableFor(index).encode(encoder, index);
  }

  /** The executable that runs batch `index` (the tail plan for the last partial batch). */
  executableFor(index: number): Executable {
    const isTail = (index + 1) * this.batchSize > this.setup.source.count;
    return (isTail ? this.tail : this.full)!;
  }

  destroy(): void {
    this.full?.destroy();
    this.tail?.destroy();
  }
}
