/**
 * The demo's settings, which of them the engine supports yet, and the ONE function that maps them to
 * Trainer options (`toTrainerOptions`). Everything the page knows about the engine's option names is here.
 *
 * To enable a feature once the engine has it: set its `available` to true in FEATURES and pass the
 * setting through in `toTrainerOptions` (the line is there, commented out).
 */
import { activationKinds, initNames, optimizerNames, preprocessing, type ActivationName, type Dataset, type Preprocessing, type Schedule, type TrainerOptions } from '../../src/index';

export interface Feature {
  available: boolean;
  /** The issue that brings it, for the "coming with issue N" tooltip. */
  issue: number;
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
} satisfies Record<string, Feature>;

export const comingWith = (feature: Feature) => `coming with issue ${feature.issue}`;

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
  /** Widths as text, e.g. "784-128-64-10". */
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

/**
 * The pixel normalisation the trainer uses, resolved here so that the CPU predictor (predict.ts) applies
 * exactly the same x = (pixel/255 − mean)/std to a drawn digit.
 */
export function normalisationFor(s: DemoSettings, train: Dataset): { mean: number; std: number } {
  const { mean = 0, std = 1 } = preprocessing(s.preprocessing, train);
  return { mean, std };
}

/**
 * THE mapping from the demo's controls to Trainer options. `normalisation` is the preprocessing: resolved
 * statistics, or the setting's name when the trainer (in its worker) resolves them from the data it holds.
 */
export function toTrainerOptions(s: DemoSettings, normalisation: Preprocessing = s.preprocessing): TrainerOptions {
  return {
    model: {
      layers: parseLayers(s.layers),
      activation: s.activation,
      init: s.init,
      norm: FEATURES.normalisation.available ? s.normalisation : undefined,
      dropout: FEATURES.dropout.available && s.dropout > 0 ? s.dropout : undefined,
    },
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
