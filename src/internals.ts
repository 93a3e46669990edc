/**
 * 'webgrad/internals': the engine's parts, for tests, benchmarks and experiments that go below the
 * Trainer (graphs, autodiff, fusion, plans, kernels, arenas, the autotuner). It re-exports the public
 * entry too, so one import serves both. These names may change between minor versions.
 */
export * from './index';
export { GpuResources, type ResourceCounts } from './gpu/resources';
export { readBuffer, readFloats } from './gpu/readback';
export { TimestampProfiler } from './gpu/profiler';
export { Graph, Tensor, externalBuffer, type ExternalBuffer, type Node, type Role } from './graph/graph';
export { opDefs, type OpName } from './graph/ops';
export { appendBackward } from './graph/autodiff';
export { fuse } from './scheduler/fuse';
export { planStep, formatPlan, type Plan } from './scheduler/plan';
export { Executable } from './scheduler/executable';
export { kernels } from './kernels/catalog';
export { tuneMatmuls, tuneProduct, autotuneChoices, formatTuning, type ProductTuning, type CandidateResult } from './kernels/autotune';
export { selectMatmul, tuningKey, adoptChoices, formatSelection, type MatmulRequest } from './kernels/matmul_select';
export { matmulVariants, variantSteps, variantConstants, variantWorkgroups, REFERENCE_MATMUL, type MatmulVariant, type MatmulShape, type MatmulSelection, type MatmulStep, type MatmulOperand } from './kernels/matmul_variants';
export { candidateVariants, alignmentOf, ALL_ALIGNED, type BindingAlignment } from './kernels/matmul_policy';
export { adapterKindOf, type AdapterKind } from './gpu/adapter_kind';
export { prepareSelection, type ProductBuffers, type PreparedSelection } from './kernels/matmul_verify';
export { matmulRequestsOf, matmulParamsOf, variantOfDispatch } from './kernels/matmul_plan';
export { memoryTuningStore, tuningStoreKey, type TuningStore } from './kernels/tuning_store';
export { DispatchTimer, clockResolution, type Clock, type TimingOptions, type Recorder, type Measurement } from './gpu/timing';
export { ParameterArena, type ParameterSpec } from './nn/parameters';
export { initWeight, resolveInit } from './nn/init';
export { LrScheduler } from './optim/schedule';
export { Rng, shuffledIndices } from './data/rng';
export { TrainingState, packStepTable, type StepValues } from './train/training_state';
export { buildStepGraph, type StepGraph } from './train/step_graph';
export { BatchRunner, planFor } from './train/batch_runner';
