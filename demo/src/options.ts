/**
 * The demo's settings, which of them the engine supports yet, the model presets (an MLP from the width,
 * activation, norm and dropout controls, or a fixed CNN layer list), and the ONE function that maps the
 * settings to Trainer options (`toTrainerOptions`). Everything the page knows about the engine's option
 * names is here.
 *
 * To enable a feature once the engine has it: set its `available` to true in FEATURES and pass the
 * setting through in `toTrainerOptions`.
 */
import { activationKinds, initNames, optimizerNames, type ActivationName, type LayerSpec, type Preprocessing, type Schedule, type TrainerOptions } from '../../src/index';
import { opDefs } from '../../src/internals';

export interface Feature {
  available: boolean;
  /** The issue that brings it, for the "coming with issue N" tooltip. */
  issue?: number;
  /** Or what it waits for, when no issue number says it. */
  needs?: string;
}

/** Engine features the controls depend on. A control whose feature is not available is shown disabled. */
export const FEATURES = {
  /** Batch and layer normalisation, dropout. */
  normalisation: { available: true, issue: 3 },
  dropout: { available: true, issue: 3 },
  /** Optimizers beyond SGD + momentum; the list itself comes from the engine (`optimizerNames`). */
  optimizers: { available: true, issue: 4 },
  schedules: { available: true, issue: 4 },
  clipping: { available: true, issue: 4 },
  augmentation: { available: true, issue: 4 },
  weightDecay: { available: true, issue: 4 },
  /**
   * The CNN preset: MaxPool2d and BatchNorm2d need the max_pool2d op and 4-D batch norm, which come with the
   * norm and pooling kernels. Read from the engine's op table, so the preset turns on by itself once they exist.
   */
  cnn: { available: Object.hasOwn(opDefs, 'max_pool2d'), needs: 'the max_pool2d kernel (MaxPool2d), which this build of webgrad lacks' },
} satisfies Record<string, Feature>;

/** The tooltip of a control whose feature is missing. */
export const comingWith = (feature: Feature) => (feature.issue !== undefined ? `coming with issue ${feature.issue}` : `needs ${feature.needs}`);
/** The short note after a disabled option's name. */
export const missingNote = (feature: Feature) => (feature.issue !== undefined ? `issue ${feature.issue}` : 'not in this build');

export const MODELS = ['mlp', 'cnn'] as const;
export type ModelPreset = (typeof MODELS)[number];

/**
 * The CNN preset, in torch.nn form: two 5×5 convolutions (16 and 32 channels, the first with batch norm),
 * each followed by 2×2 max pooling, then a 128-unit hidden layer with dropout. [1, 28, 28] → [16, 28, 28]
 * → [16, 14, 14] → [32, 10, 10] → [32, 5, 5] → 800 → 128 → 10. State-dict names: '0.weight' (the first
 * convolution's kernels, [16, 1, 5, 5]), '1.running_mean', '8.weight', ...
 */
export const CNN_LAYERS: readonly LayerSpec[] = [
  { type: 'Conv2d', in_channels: 1, out_channels: 16, kernel_size: 5, padding: 2 },
  { type: 'BatchNorm2d', num_features: 16 },
  { type: 'ReLU' },
  { type: 'MaxPool2d', kernel_size: 2 },
  { type: 'Conv2d', in_channels: 16, out_channels: 32, kernel_size: 5 },
  { type: 'ReLU' },
  { type: 'MaxPool2d', kernel_size: 2 },
  { type: 'Flatten' },
  { type: 'Linear', in_features: 800, out_features: 128 },
  { type: 'ReLU' },
  { type: 'Dropout', p: 0.3 },
  { type: 'Linear', in_features: 128, out_features: 10 },
];

/** The settings that only the MLP preset reads (the CNN's layers are fixed). */
export const MLP_ONLY: readonly (keyof DemoSettings)[] = ['layers', 'activation', 'normalisation', 'dropout'];

export const ACTIVATIONS = Object.keys(activationKinds) as ActivationName[];
export const INITIALISERS = [...initNames];
/** Every optimizer the demo offers; those the engine lacks are shown disabled. */
export const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw'] as const;
export const optimizerAvailable = (name: string) =>
  (optimizerNames as readonly string[]).includes(name) && (FEATURES.optimizers.available || name === 'sgd' || name === 'momentum');
export const NORMALISATIONS = ['none', 'batch', 'layer'] as const;
export const SCHEDULES = ['constant', 'step', 'exponential', 'cosine'] as const;
export const AUGMENTATIONS = ['none', 'shift', 'shift+rotate', 'shift+rotate+noise'] as const;
export const PREPROCESSINGS = ['scale', 'standardize'] as const;

export interface DemoSettings {
  /** The model preset: an MLP from the four settings below, or the fixed CNN (CNN_LAYERS). */
  model: ModelPreset;
  /** MLP widths as text, e.g. "784-128-64-10". */
  layers: string;
  activation: ActivationName;
  init: string;
  normalisation: (typeof NORMALISATIONS)[number];
  dropout: number;
  optimizer: (typeof OPTIMIZERS)[number];
  lr: number;
  schedule: (typeof SCHEDULES)[number];
  batchSize: number;
  epochs: number;
  /** Global gradient-norm clipping; 0 is off. */
  clipNorm: number;
  weightDecay: number;
  augmentation: (typeof AUGMENTATIONS)[number];
  preprocessing: (typeof PREPROCESSINGS)[number];
  /** Training samples used (the first N of the 60,000). */
  subset: number;
  /** Test samples evaluated after every epoch (the first N of the 10,000). */
  testSubset: number;
  seed: number;
}

export const DEFAULTS: DemoSettings = {
  model: 'mlp',
  layers: '784-128-64-10',
  activation: 'relu',
  init: 'he_normal',
  normalisation: 'none',
  dropout: 0,
  optimizer: 'adam',
  lr: 0.001,
  schedule: 'constant',
  batchSize: 64,
  epochs: 5,
  clipNorm: 0,
  weightDecay: 0,
  augmentation: 'none',
  preprocessing: 'scale',
  subset: 60000,
  testSubset: 10000,
  seed: 1,
};

export class SettingsError extends Error {}

/** "784-128-64-10" → [784, 128, 64, 10], checked against MNIST's 784 inputs and 10 classes. */
export function parseLayers(text: string): number[] {
  const parts = text.trim().split(/\s*[-,x× ]\s*/).filter(Boolean);
  const layers = parts.map(Number);
  if (layers.length < 2 || layers.some((w) => !Number.isInteger(w) || w < 1)) {
    throw new SettingsError(`Layers must be widths joined by '-', like 784-128-64-10; got "${text}".`);
  }
  if (layers[0] !== 784) throw new SettingsError(`The first width must be 784 (28×28 pixels); got ${layers[0]}.`);
  if (layers[layers.length - 1] !== 10) throw new SettingsError(`The last width must be 10 (the digits); got ${layers[layers.length - 1]}.`);
  if (layers.some((w) => w > 4096)) throw new SettingsError('Keep every width at 4096 or below in the demo.');
  return layers;
}

function schedule(s: DemoSettings): Schedule {
  switch (s.schedule) {
    case 'step':
      return { kind: 'step', every: 2, gamma: 0.5 };
    case 'exponential':
      return { kind: 'exponential', gamma: 0.9 };
    case 'cosine':
      return { kind: 'cosine', epochs: s.epochs };
    default:
      return { kind: 'constant' };
  }
}

function augment(s: DemoSettings): TrainerOptions['augment'] {
  switch (s.augmentation) {
    case 'shift':
      return { maxShift: 2 };
    case 'shift+rotate':
      return { maxShift: 2, maxRotate: 10 };
    case 'shift+rotate+noise':
      return { maxShift: 2, maxRotate: 10, noiseStd: 0.1 };
    default:
      return undefined;
  }
}

/** The model the settings describe: the MLP settings (the engine expands them into a layer list) or the CNN's layer list. */
export function modelOf(s: DemoSettings): TrainerOptions['model'] {
  if (s.model === 'cnn') return { layers: CNN_LAYERS, init: s.init };
  if (s.model !== 'mlp') throw new SettingsError(`The model preset must be one of ${MODELS.join(', ')}; got "${s.model}".`);
  return {
    layers: parseLayers(s.layers),
    activation: s.activation,
    init: s.init,
    norm: FEATURES.normalisation.available ? s.normalisation : undefined,
    dropout: FEATURES.dropout.available && s.dropout > 0 ? s.dropout : undefined,
  };
}

/** A short name of the model for the status line and file names: "784-128-64-10" or "cnn". */
export const modelName = (s: DemoSettings) => (s.model === 'cnn' ? 'cnn' : parseLayers(s.layers).join('-'));

/**
 * THE mapping from the demo's controls to Trainer options. `normalisation` is the preprocessing: resolved
 * statistics, or the setting's name when the trainer (in its worker) resolves them from the data it holds.
 */
export function toTrainerOptions(s: DemoSettings, normalisation: Preprocessing = s.preprocessing): TrainerOptions {
  return {
    model: modelOf(s),
    optimizer: {
      name: s.optimizer,
      lr: s.lr,
      weightDecay: FEATURES.weightDecay.available ? s.weightDecay : undefined,
      clipNorm: FEATURES.clipping.available && s.clipNorm > 0 ? s.clipNorm : undefined,
    },
    schedule: FEATURES.schedules.available ? schedule(s) : undefined,
    augment: FEATURES.augmentation.available ? augment(s) : undefined,
    preprocessing: normalisation,
    batchSize: s.batchSize,
    seed: s.seed,
  };
}

/** Settings from URL parameters (?subset=3000&epochs=2&lr=0.002 …), over the defaults. */
export function settingsFromUrl(search: string, base: DemoSettings = DEFAULTS): DemoSettings {
  const params = new URLSearchParams(search);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(base)) {
    const given = params.get(key);
    if (given === null) continue;
    out[key] = typeof value === 'number' ? Number(given) : given;
  }
  return out as unknown as DemoSettings;
}
