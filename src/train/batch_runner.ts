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
import { fuse, headFusionFor } from '../scheduler/fuse';
import { planStep, type ArenaLayout, type Plan } from '../scheduler/plan';
import { Executable, type BufferBindings } from '../scheduler/executable';
import { tuneMatmuls, type AutotuneOptions } from '../kernels/autotune';
import { matmulRequestsOf } from '../kernels/matmul_plan';
import { adoptChoices, type TuningTable } from '../kernels/matmul_select';
import { splitForAdapter, withReductionSplit, type ReductionSplit } from '../kernels/reduction_split';
import { buildStepGraph } from './step_graph';
import type { ResolvedLoss } from './loss';
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
  /** The loss (default plain cross-entropy). */
  loss?: ResolvedLoss;
  /**
   * Time each matmul's verified variants on this adapter (src/kernels/autotune.ts) to fill the tuning table
   * before planning. Default true; false plans with `tuning` as it is (empty: the reference kernel everywhere).
   */
  autotune?: boolean | AutotuneOptions;
  /** Choices that stand (e.g. a checkpoint's): the tuner only adds to them. */
  tuning?: TuningTable;
  /** How the reductions split their work (src/kernels/reduction_split.ts); BatchRunner.create picks it from the adapter. */
  reductionSplit?: ReductionSplit;
  /** Fuse the classifier head (src/scheduler/fuse.ts); BatchRunner.create picks it from the adapter (GPUs only). */
  fuseHead?: boolean;
}

/** The plan of one step over `rows` samples, each matmul running the variant `tuning` names (default: the reference). */
export function planFor(setup: RunnerSetup, rows: number, tuning: TuningTable = {}): Plan {
  const { graph } = buildStepGraph(setup, rows);
  const nodes = fuse(graph.nodes, { head: setup.fuseHead ?? true });
  return planStep(setup.reductionSplit ? withReductionSplit(nodes, setup.reductionSplit) : nodes, setup.layout, {
    extra: setup.training ? setup.update : [],
    stepValues: { table: setup.stepTable, step: setup.step, stride: STEP_STRIDE },
    tuning,
  });
}

/**
 * The tuning table for a runner's plans: the given choices, then (unless autotune is off) the tuner's for
 * the full batch's products; the last partial batch adopts the full batch's variants where they fit, since
 * it runs once an epoch and is not worth timing.
 */
async function tuningFor(resources: GpuResources, setup: RunnerSetup, batch: number, tailRows: number, hasFull: boolean): Promise<TuningTable> {
  let table: TuningTable = { ...setup.tuning };
  const full = hasFull ? matmulRequestsOf(planFor(setup, batch)) : [];
  if (setup.autotune !== false) {
    const options = typeof setup.autotune === 'object' ? setup.autotune : {};
    const requests = full.length ? full : tailRows ? matmulRequestsOf(planFor(setup, tailRows)) : [];
    table = await tuneMatmuls(resources, requests, { ...options, table: { ...options.table, ...table } });
  }
  if (tailRows && full.length) {
    const tail = matmulRequestsOf(planFor(setup, tailRows));
    table = adoptChoices(table, tail.flatMap((to, i) => (full[i] && full[i].label === to.label ? [{ from: full[i], to }] : [])));
  }
  return table;
}

export class BatchRunner {
  private constructor(
    readonly setup: RunnerSetup,
    readonly full: Executable | undefined,
    readonly tail: Executable | undefined,
    /** The variants the plans run (what a checkpoint stores). */
    readonly tuning: TuningTable,
    private readonly bindings: BufferBindings,
  ) {}

  /** `bindings` must hold every external buffer the plans bind (arenas, dataset, step table). */
  static async create(resources: GpuResources, runnerSetup: RunnerSetup, bindings: BufferBindings): Promise<BatchRunner> {
    const adapter = resources.gpu.adapterName;
    const setup = { ...runnerSetup, reductionSplit: runnerSetup.reductionSplit ?? splitForAdapter(adapter), fuseHead: runnerSetup.fuseHead ?? headFusionFor(adapter) };
    const count = setup.source.count;
    const batch = Math.min(setup.batchSize, count);
    const tailRows = count % batch;
    const label = `${setup.source.name}${setup.training ? '.train' : '.eval'}`;
    const tuning = await tuningFor(resources, setup, batch, tailRows, count >= batch);
    const fullPlan = count >= batch ? planFor(setup, batch, tuning) : undefined;
    const tailPlan = tailRows ? planFor(setup, tailRows, tuning) : undefined;
    const [full, tail] = await Promise.all([
      fullPlan ? Executable.create(resources, fullPlan, bindings, `${label}[${batch}]`) : undefined,
      tailPlan ? Executable.create(resources, tailPlan, bindings, `${label}[${tailRows}]`) : undefined,
    ]);
    return new BatchRunner(setup, full, tail, tuning, bindings);
  }

  /** A runner with some settings changed (progressive unfreezing's frozen set); this one's matmul choices stand. */
  rebuilt(resources: GpuResources, changes: Partial<RunnerSetup>): Promise<BatchRunner> {
    return BatchRunner.create(resources, { ...this.setup, ...changes, tuning: { ...this.setup.tuning, ...this.tuning } }, this.bindings);
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
