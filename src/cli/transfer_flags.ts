/**
 * The transfer-learning flags of `npm run train` (src/train/transfer.ts does the work): --freeze,
 * --lr-mult, --unfreeze-every and --new-head. Layers are the top-level indices the model summary prints.
 * The flags are read with the others; `transferFrom` checks them against the model before any GPU work.
 */
import { ConfigError } from '../errors';
import type { Model } from '../nn/model';
import { TransferPlan, type TransferOptions } from '../train/transfer';
import { boolean, int, InvalidValue, readNumber, spec, type FlagValues } from './flags';
import { parseIndexList } from './index_list';

const LAYER_LIST = 'layer indices and ranges joined by commas, such as 0-5 or 0,2,4';

/** `0-5:0.1`, or several groups joined by ';': `0-2:0.1;3-5:0.5`; each layer once, each multiplier > 0. */
export function parseLrMultipliers(text: string): Record<number, number> {
  const multipliers: Record<number, number> = {};
  for (const group of text.split(';')) {
    const colon = group.lastIndexOf(':');
    if (colon < 0) throw new InvalidValue(`'${group}' has no multiplier; write LAYERS:X, e.g. 0-5:0.1`);
    let value: number;
    try {
      value = readNumber(group.slice(colon + 1));
    } catch {
      throw new InvalidValue(`'${group.slice(colon + 1)}' is not a number`);
    }
    if (!(value > 0) || !Number.isFinite(value)) throw new InvalidValue(`the multiplier ${group.slice(colon + 1)} must be a finite number > 0 (--freeze stops a layer)`);
    for (const layer of parseIndexList(group.slice(0, colon), 'layer')) {
      if (layer in multipliers) throw new InvalidValue(`layer ${layer} has two multipliers`);
      multipliers[layer] = value;
    }
  }
  return multipliers;
}

export const transferFlags = {
  freeze: spec({
    metavar: 'LIST',
    expected: LAYER_LIST,
    help: 'freeze these layers (the indices the model summary prints, e.g. 0-5): no update and no gradient pass (feature extraction)',
    parse: (text) => parseIndexList(text, 'layer'),
  }),
  'lr-mult': spec({
    metavar: 'LIST:X',
    expected: 'layers with a learning-rate multiplier, such as 0-5:0.1, or groups joined by ;, such as 0-2:0.1;3-5:0.5',
    help: 'learning-rate multipliers per layer (fine-tuning), e.g. 0-5:0.1',
    parse: parseLrMultipliers,
  }),
  'unfreeze-every': int({ min: 1, help: 'progressive unfreezing: every N epochs the highest frozen layer (--freeze) starts training' }),
  'new-head': boolean({ help: 'with --weights: a fresh output layer (the last Linear) sized to the data; the rest starts from the file' }),
} as const;

type TransferValues = FlagValues<typeof transferFlags> & { weights?: string };

/** The flags as trainer options, checked against the model (ConfigError naming the flag). */
export function transferFrom(values: TransferValues, model: Model): TransferOptions & { newHead?: boolean } {
  if (values['new-head'] && values.weights === undefined) throw new ConfigError('--new-head replaces the output layer of the starting weights; give --weights FILE too.');
  const options: TransferOptions = { freeze: values.freeze, lrMultipliers: values['lr-mult'], unfreezeEvery: values['unfreeze-every'] };
  TransferPlan.resolve(model, options, { freeze: '--freeze', lrMultipliers: '--lr-mult', unfreezeEvery: '--unfreeze-every' });
  return { ...options, newHead: values['new-head'] || undefined };
}

/** One line for the log: what is frozen, how it thaws, which layers learn at another rate. */
export function describeTransfer(options: TransferOptions): string | undefined {
  const parts = [
    options.freeze?.length ? `frozen layers ${options.freeze.join(', ')}${options.unfreezeEvery ? `, one more unfrozen every ${options.unfreezeEvery} epoch${options.unfreezeEvery > 1 ? 's' : ''}` : ''}` : '',
    ...Object.entries(options.lrMultipliers ?? {}).map(([layer, m]) => `layer ${layer} lr × ${m}`),
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : undefined;
}
