/** Checks on how a dataset is cut into training batches, before any GPU work. */
import { ConfigError } from '../errors';
import type { Model } from '../nn/model';

/** The batch size fits the data, and no training batch (the last partial one included) is too small for batch norm. */
export function checkBatching(model: Model, count: number, batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`The batch size must be a positive integer; got ${batchSize}.`);
  if (batchSize > count) throw new ConfigError(`The batch size (${batchSize}) is larger than the training set (${count} samples).`);
  const min = model.minTrainingRows;
  const tail = count % batchSize;
  if (batchSize >= min && (tail === 0 || tail >= min)) return;
  const fits = (b: number) => b >= min && b <= count && (count % b === 0 || count % b >= min);
  const suggestions: number[] = [];
  for (let d = 1; suggestions.length < 3 && d <= count; d++) {
    for (const b of [batchSize - d, batchSize + d]) if (fits(b) && suggestions.length < 3) suggestions.push(b);
  }
  const what = batchSize < min ? `a batch size of ${batchSize}` : `${count} training samples in batches of ${batchSize}, which leaves a last batch of ${tail} row${tail === 1 ? '' : 's'}`;
  throw new ConfigError(
    `Batch norm needs at least ${min} rows in every training batch (a single value per channel has no batch variance), but the run has ${what}. ` +
      (suggestions.length ? `Use a batch size such as ${suggestions.join(', ')}, or layer norm instead.` : `Use layer norm instead.`),
  );
}
