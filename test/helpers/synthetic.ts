/** A small random dataset for tests that need a Dataset but not MNIST: seeded bytes and labels. */
import { Rng } from '../../src/data/rng';
import type { Dataset } from '../../src/data/dataset';

/** `count` images of rows × cols random bytes ([1, rows, cols] samples) and labels below `classes`, from one seeded generator. */
export function syntheticDataset(count: number, rows: number, cols: number, seed: number, classes = 10): Dataset {
  const rng = new Rng(seed);
  return {
    x: Uint8Array.from({ length: count * rows * cols }, () => rng.nextBelow(256)),
    labels: Uint8Array.from({ length: count }, () => rng.nextBelow(classes)),
    sampleShape: [1, rows, cols],
    count,
    numClasses: classes,
  };
}
