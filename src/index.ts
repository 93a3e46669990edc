/**
 * webgrad: train neural networks on the GPU with WebGPU, in browsers, workers and Node.
 *
 * Entry points (package.json "exports"):
 * - 'webgrad'            this file: what a user trains with (device, data, models, trainer, metrics, io,
 *                        the worker proxy). Importing it changes nothing global (see DeviceOptions).
 * - 'webgrad/node'       Node only: MNIST from disk, files (atomic), Dawn's globals (src/node.ts).
 * - 'webgrad/internals'  the engine's parts (graph, autodiff, scheduler, kernels, arenas, autotuner) for
 *                        tests, benchmarks and experiments; everything here too. No stability promise.
 */
export * from './errors';

// Device
export { requestGpu, type GpuContext, type DeviceOptions } from './gpu/device';
export { paceDawnTicks } from './gpu/dawn_ticks';

// Data
export { makeDataset, tensorDataset, subset, splitDataset, selectClasses, type Dataset, type DatasetParts, type Labels } from './data/dataset';
export { fetchMnist } from './data/mnist_fetch';
export { type Mnist } from './data/mnist';
export { parseIdx, encodeIdx, type IdxTensor } from './data/idx';
export { parseNpy, encodeNpy, type NpyArray, type NpyData, type NpyDtype } from './data/npy';
export { kerasDatasets, KERAS_FILES, type KerasArrays } from './data/keras';
export { preprocessing, type Preprocessing } from './data/preprocess';
export { type Normalisation, type Augmentation } from './data/gpu_dataset';

// Models, initialisers, optimizers, schedules
export { activationKinds, derivativeFromInput, NORM_EPS, type ActivationName } from './graph/ops';
export { Model, type ModelSpec, type LayerSpec, type ResolvedLayer } from './nn/model';
export { layerKinds } from './nn/layers/index';
export { toModel, toModelSpec, isMlpConfig, type ModelInput } from './nn/model_input';
export { mlpLayers, validateMlp, normNames, type MlpConfig, type ResolvedMlp, type NormName } from './nn/mlp';
export { parseModel, parseModelText, formatModel } from './nn/model_spec';
export { initNames, type InitName } from './nn/init';
export { optimizerNames, type OptimizerOptions, type OptimizerName, type DecayMode } from './optim/optimizer';
export { parseSchedule, type Schedule } from './optim/schedule';

// Training, metrics and diagnostics
export { Trainer, type TrainerOptions, type EpochReport, type FitOptions, type StepReport } from './train/trainer';
export { resolveLoss, lossNames, type LossName, type LossSpec, type LossOption } from './train/loss';
export { type EarlyStoppingOptions } from './train/early_stopping';
export { diagnose, gradientTable } from './train/diagnose';
export { gradientCheck, type GradientCheckResult } from './train/gradcheck';
export { trainEnsemble, meanProbabilities, argmaxAccuracy, type EnsembleReport, type EnsembleMember, type EnsembleOptions } from './train/ensemble';
export { search, formatResults, gridTrials, randomTrials, type SearchSpace, type TrialResult } from './train/search';
export { initDiagnostic, formatInitDiagnostic, defaultInitCases, type InitCase, type InitDiagnosticResult, type InitDiagnosticRow, type LayerStats } from './nn/init_diagnostic';
export { clearAutotuneCache, type AutotuneOptions } from './kernels/autotune';
export { type TuningTable } from './kernels/matmul_select';
export { localStorageTuningStore } from './kernels/tuning_store_browser';
export { type KernelTiming } from './gpu/profiler';

// Files and storage
export { stateDictTensors, readStateDict, type StateValues } from './io/state_dict';
export { encodeSafetensors, decodeSafetensors, type SafetensorsDtype, type NamedSafetensorsTensor, type DecodedSafetensors } from './io/safetensors';
export { type ByteStore } from './io/byte_store';
export { indexedDbStore, downloadBytes, readFileBytes, pickFile, type IndexedDbStoreOptions } from './io/browser_storage';

// Training in a Web Worker
export { TrainerWorker, TrainerProxy, type RemoteTrainerOptions, type RemoteFitOptions } from './worker/proxy';
export { serveTrainer, type TrainerInfo, type ServeOptions } from './worker/serve';
export { type DataSource, type MnistSource, type MessageEndpoint, type RemoteGpuInfo } from './worker/protocol';
