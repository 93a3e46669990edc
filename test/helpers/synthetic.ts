/** A small random dataset for tests that need a Dataset but not MNIST: seeded bytes and labels. */
import { Rng } from '../../src/data/rng';
import type { Dataset } from '../../src/data/dataset';

/** `count` images of rows × cols random bytes and labels below `classes`, all from one seeded generator. */
export function syntheticDataset(count: number, rows: number, cols: number, seed: number, classes = 10): Dataset {
  const rng = new Rng(seed);
  return {
    images: Uint8Array.from({ length: count * rows * cols }, () => rng.nextBelow(256)),
    labels: Uint8Array.from({ length: count }, () => rng.nextBelow(classes)),
    count,
    rows,
    cols,
    numClasses: classes,
  };
}
