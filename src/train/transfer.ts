/**
 * Transfer learning as the lessons teach it (002, 004), as plain data computed from the options and the
 * epoch:
 *
 *   freeze          feature extraction: the listed layers' parameters get no update, and the step graph
 *                   computes no gradient that only they (or nothing) need (src/graph/autodiff.ts prunes it);
 *   lrMultipliers   fine-tuning: a layer's learning rate is the schedule's times its multiplier, as a
 *                   PyTorch parameter group with its own lr;
 *   unfreezeEvery   progressive unfreezing: every N epochs the highest frozen layer starts training;
 *   newHead         the output layer (the last Linear) is freshly initialised, sized to the data, while the
 *                   rest starts from the saved weights.
 *
 * Layers are named by their index in the top-level layer list, as `Model.summary()` and the state dict's
 * first key part number them ('4' covers '4.weight' and '4.body.0.weight'). The optimizer reads one row per
 * parameter slot (src/optim/optimizer.ts `slotTable`): learning-rate scale 0 means frozen, and the step a
 * slot started training at keeps Adam's bias correction per parameter, as PyTorch's per-parameter step
 * count does. Batch norm's running statistics in a frozen layer still update in training mode, as they do
 * in PyTorch with `requires_grad_(False)`.
 */
import { ConfigError } from '../errors';
import { targetSize, type Dataset } from '../data/dataset';
import { Model } from '../nn/model';
import { toModel, type ModelInput } from '../nn/model_input';
import type { ParameterArena } from '../nn/parameters';
import type { SlotUpdate } from '../optim/optimizer';

export interface TransferOptions {
  /** Top-level layer indices to freeze (layers without parameters are passed over). */
  freeze?: readonly number[];
  /** Learning-rate multiplier by top-level layer index (> 0; freeze a layer to stop it); layers without parameters are passed over. */
  lrMultipliers?: Readonly<Record<number, number>>;
  /** Unfreeze one more frozen layer, the highest first, every this many epochs. */
  unfreezeEvery?: number;
}

const optionNames: Record<keyof TransferOptions, string> = { freeze: 'freeze', lrMultipliers: 'lrMultipliers', unfreezeEvery: 'unfreezeEvery' };

export class TransferPlan {
  private constructor(
    private readonly model: Model,
    /** Frozen layers with parameters, highest first: the order progressive unfreezing releases them in. */
    private readonly frozen: readonly number[],
    private readonly multipliers: ReadonlyMap<number, number>,
    private readonly every: number,
  ) {}

  /**
   * Checks the options against the model; throws ConfigError naming the offending layer or value, and the
   * option by `names` (the CLI passes its flags' names).
   */
  static resolve(model: Model, options: TransferOptions, names: Record<keyof TransferOptions, string> = optionNames): TransferPlan {
    const count = model.layers.length;
    const withParams = new Set(model.layers.flatMap((_, i) => (parameterNames(model, i).length ? [i] : [])));
    const checkIndex = (i: number, what: keyof TransferOptions) => {
      if (!Number.isInteger(i) || i < 0 || i >= count) throw new ConfigError(`${names[what]} names layer ${i}, but the model's layers are 0 to ${count - 1}.`);
    };
    const freeze = options.freeze ?? [];
    freeze.forEach((i) => checkIndex(i, 'freeze'));
    const frozen = [...new Set(freeze)].filter((i) => withParams.has(i)).sort((a, b) => b - a);
    if (freeze.length && !frozen.length) throw new ConfigError(`${names.freeze} names layers ${[...new Set(freeze)].join(', ')}, none of which has parameters: nothing would be frozen.`);
    const every = options.unfreezeEvery ?? 0;
    if (options.unfreezeEvery !== undefined && (!Number.isInteger(every) || every < 1)) throw new ConfigError(`${names.unfreezeEvery} must be a whole number of epochs ≥ 1; got ${options.unfreezeEvery}.`);
    if (every && !frozen.length) throw new ConfigError(`${names.unfreezeEvery} unfreezes frozen layers; freeze some layers too (${names.freeze}).`);
    if (!every && frozen.length === withParams.size) throw new ConfigError(`${names.freeze} covers every layer with parameters (${[...withParams].join(', ')}): nothing would train.`);
    const multipliers = new Map<number, number>();
    const listed = Object.entries(options.lrMultipliers ?? {}).map(([key, value]) => [Number(key), value] as const);
    for (const [i, value] of listed) {
      checkIndex(i, 'lrMultipliers');
      if (!(Number.isFinite(value) && value > 0)) throw new ConfigError(`The learning-rate multiplier of layer ${i} must be a finite number > 0 (freeze the layer to stop it); got ${value}.`);
      if (withParams.has(i)) multipliers.set(i, value);
    }
    if (listed.length && !multipliers.size) {
      const layers = listed.map(([i]) => `${i} (${model.layers[i].type})`).join(', ');
      throw new ConfigError(`${names.lrMultipliers} names layer${listed.length > 1 ? 's' : ''} ${layers}, none of which has parameters.`);
    }
    return new TransferPlan(model, frozen, multipliers, every);
  }

  get active(): boolean {
    return this.frozen.length > 0 || this.multipliers.size > 0;
  }

  /** The epoch (0-based) from which layer i trains: 0 unless frozen; Infinity if it never thaws. */
  private thawEpoch(layer: number): number {
    const rank = this.frozen.indexOf(layer);
    if (rank < 0) return 0;
    return this.every ? (rank + 1) * this.every : Infinity;
  }

  /** Top-level layers frozen during `epoch` (0-based). */
  frozenLayers(epoch: number): number[] {
    return this.frozen.filter((i) => epoch < this.thawEpoch(i)).sort((a, b) => a - b);
  }

  /** The parameters that get no gradient during `epoch`. */
  frozenParameters(epoch: number): Set<string> {
    return new Set(this.frozenLayers(epoch).flatMap((i) => parameterNames(this.model, i)));
  }

  /** The optimizer's row for every arena slot during `epoch`, with `stepsPerEpoch` steps in an epoch. */
  slotUpdates(arena: ParameterArena, epoch: number, stepsPerEpoch: number): SlotUpdate[] {
    return arena.slots.map((slot) => {
      const layer = Number(slot.name.split('.')[0]);
      const thaw = this.thawEpoch(layer);
      if (epoch < thaw) return { lrScale: 0, firstStep: 0 };
      return { lrScale: this.multipliers.get(layer) ?? 1, firstStep: thaw * stepsPerEpoch };
    });
  }
}

/**
 * The model a trainer builds from its options (with a new head when `newHead` asks for one, sized to the
 * training data's classes or targets), the parameters not to load from the starting weights, and the plan.
 */
export function transferSetup(
  options: TransferOptions & { model: ModelInput; init?: string; newHead?: boolean; weights?: Uint8Array },
  train: Dataset,
  inputShape: readonly number[] = train.sampleShape,
): { model: Model; head: Set<string>; transfer: TransferPlan } {
  let model = toModel(options.model, inputShape, { init: options.init });
  let head = new Set<string>();
  if (options.newHead) {
    if (!options.weights) throw new ConfigError('newHead replaces the output layer of the starting weights; pass weights too.');
    ({ model, head } = withNewHead(model, train.numClasses ?? targetSize(train)));
  }
  return { model, head, transfer: TransferPlan.resolve(model, options) };
}

/** Full names of the parameters of top-level layer i (its children's included). */
function parameterNames(model: Model, i: number): string[] {
  const prefix = `${i}.`;
  return model.parameters.map((p) => p.name).filter((name) => name.startsWith(prefix));
}

/**
 * The model with its output layer replaced by a fresh Linear of `outputs` features, and the replaced
 * parameters' names (the state dict's entries for them are not loaded). The output layer is the last
 * top-level layer with parameters; it must be a Linear.
 */
export function withNewHead(model: Model, outputs: number): { model: Model; head: Set<string> } {
  const index = Math.max(-1, ...model.layers.flatMap((_, i) => (parameterNames(model, i).length ? [i] : [])));
  const layer = model.layers[index];
  if (!layer || layer.type !== 'Linear') {
    throw new ConfigError(`A new head replaces the model's output layer, its last layer with parameters, which must be a Linear; ${layer ? `layer ${index} is a ${layer.type}` : 'the model has no parameters'}.`);
  }
  const spec = model.spec.map((s, i) => (i === index ? { ...s, out_features: outputs } : s));
  const replaced = Model.create({ layers: spec, init: model.init }, model.inputShape);
  return { model: replaced, head: new Set(parameterNames(replaced, index)) };
}
