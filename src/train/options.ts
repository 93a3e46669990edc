/** What `Trainer.create` and `fit` take: the model, the data's preprocessing, the optimizer, the loop. */
import type { Augmentation } from '../data/gpu_dataset';
import type { Preprocessing } from '../data/preprocess';
import type { Projection, ProjectionSpec } from '../data/projection';
import type { AutotuneOptions } from '../kernels/autotune';
import type { TuningTable } from '../kernels/matmul_select';
import type { ModelInput } from '../nn/model_input';
import type { OptimizerOptions } from '../optim/optimizer';
import type { Schedule } from '../optim/schedule';
import type { EarlyStoppingOptions } from './early_stopping';
import type { EpochReport, StepReport } from './reports';
import type { LossOption } from './loss';
import type { TransferOptions } from './transfer';

/** `freeze`, `lrMultipliers` and `unfreezeEvery` (transfer learning) are described in src/train/transfer.ts. */
export interface TrainerOptions extends TransferOptions {
  /** A layer list (torch.nn names), or the compact MLP settings ({ layers: [784, 128, 10], ... }). */
  model: ModelInput;
  /** Model-wide initialiser for layers that name none (default he_normal). */
  init?: string;
  /** Starting weights: a state dict (safetensors bytes, as PyTorch or `stateDict()` writes it), loaded strictly. */
  weights?: Uint8Array;
  /**
   * With `weights`: the output layer (the last Linear) starts fresh, sized to the data's classes (or
   * targets), and the file's entries for it are not loaded; the rest starts from the file.
   */
  newHead?: boolean;
  /**
   * The loss (default 'cross_entropy'): 'cross_entropy' (class labels; with { kind, labelSmoothing,
   * classWeights } PyTorch's CrossEntropyLoss(weight, label_smoothing)), 'bce' (multi-label targets in
   * [0, 1], BCEWithLogitsLoss), 'mse', 'l1', 'huber' ({ kind, delta }, HuberLoss) or 'smooth_l1'
   * ({ kind, beta }, SmoothL1Loss) on float targets; every one the mean over the batch. Reports carry
   * accuracy for cross-entropy and bce, MSE and MAE for the regression losses. See src/train/loss.ts.
   */
  loss?: LossOption;
  /** Default: SGD with lr 0.1. */
  optimizer?: OptimizerOptions;
  schedule?: Schedule;
  /** Linear learning-rate warm-up over this many steps. */
  warmupSteps?: number;
  batchSize?: number;
  seed?: number;
  /** How pixels become inputs; statistics come from the training split only. Default 'scale' ([0, 1]). */
  preprocessing?: Preprocessing;
  /**
   * PCA or whitening after `preprocessing` (src/data/projection.ts): { kind: 'pca' | 'pca-whiten',
   * components } or { kind: 'zca' }, fitted on the training split (moments on the GPU), or a fitted
   * projection (a saved model's, `trainer.projection`) applied as it is. PCA models take [components] inputs.
   */
  projection?: ProjectionSpec | Projection;
  /** Random shifts, rotations and noise on the training batches, on the GPU. */
  augment?: Augmentation;
  /** Hold out this many training samples (or this fraction, if < 1) as a seeded validation split. */
  validation?: number;
  /**
   * Largest GPU buffer for a dataset's inputs (default: the adapter's maxStorageBufferBindingSize). Larger
   * datasets are split by samples over up to four buffers; the result does not depend on the split.
   */
  maxDataBufferBytes?: number;
  /** Evaluation batch size (default 1000). */
  evalBatchSize?: number;
  /** Training steps encoded into one command buffer (default: a whole epoch). Results do not depend on it. */
  stepsPerSubmit?: number;
  /**
   * Time the matmul variants on this adapter when the plans are built and use the fastest (default true;
   * choices are cached per adapter, see src/kernels/autotune.ts). false keeps the reference kernel, which
   * makes Trainer.create fast on a fresh adapter (tests, the demo's first visit).
   */
  autotune?: boolean | AutotuneOptions;
  /**
   * Matmul choices that stand, e.g. the table a checkpoint was trained with (`tuningOf(checkpoint)`): a
   * resumed run then runs the same kernels, sums in the same order and resumes bitwise on any adapter.
   */
  tuning?: TuningTable;
  /**
   * Fuse the classifier head (last Linear, softmax cross-entropy and the input gradient) into one kernel
   * (src/scheduler/fuse.ts). Default: on GPUs, where it saves two dispatches a step; not on CPU
   * implementations of WebGPU, where its single workgroup is slower than the three tuned kernels it replaces.
   */
  fuseHead?: boolean;
  warn?: (message: string) => void;
}

export interface FitOptions {
  epochs: number;
  /** Evaluate the validation and test sets after every epoch (default true). */
  evaluate?: boolean;
  onEpoch?: (report: EpochReport) => void;
  /** Read the running loss every N steps (asynchronously) and report it to `onStep`. */
  reportEvery?: number;
  onStep?: (report: StepReport) => void;
  /** Called after each submit with the number of steps of the epoch submitted so far (tests watch resource counts). */
  afterSubmit?: (epoch: number, step: number) => void;
  earlyStopping?: EarlyStoppingOptions;
  /** Checked between epochs: return true to stop (the demo's Stop button). */
  shouldStop?: () => boolean;
  /** Every N epochs, hand a checkpoint (safetensors bytes) to `onCheckpoint`, taken exactly at that epoch's end. */
  checkpointEvery?: number;
  onCheckpoint?: (checkpoint: Uint8Array, epoch: number) => void | Promise<void>;
}
