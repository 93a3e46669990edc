/**
 * TF.js data and scoring shared by the MLP and CNN suites: the same host batches (bench/stats.mjs) as GPU
 * tensors, and a test-set score accumulated on the GPU and read once.
 */
import { hostBatches } from './stats.mjs';

/**
 * Batches as GPU-resident tensors: inputs in [0, 1] float32 of `[rows, ...sampleShape]` (the MLP's [784], the
 * CNN's NHWC [28, 28, 1]), labels one-hot, in the fixed shuffled order of `seed` (or in order); the last batch
 * is partial when the count is not a multiple of the batch. Uploaded now: TF.js uploads lazily, on first use.
 */
export async function tfjsBatches(tf, ds, count, batchSize, seed, { sampleShape, shuffle = true } = {}) {
  const batches = hostBatches(ds, count, batchSize, seed, shuffle).map(({ x, labels, rows, features }) => {
    const xs = tf.tensor(x, [rows, ...(sampleShape ?? [features])]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), ds.numClasses).toFloat());
    return { xs, ys, rows };
  });
  // One tiny op per tensor, read back once (a chain of adds, not tf.addN: WebGPU allows only 8 storage
  // buffers per kernel).
  const touched = tf.tidy(() => batches.reduce((acc, { xs, ys }) => acc.add(tf.sum(xs)).add(tf.sum(ys)), tf.scalar(0)));
  await touched.data();
  touched.dispose();
  return batches;
}

/** [correct predictions, summed loss] over the batches (inference mode), accumulated on the GPU: two scalars to read. */
export function evaluateTfjs(tf, model, batches) {
  let totals = [tf.scalar(0), tf.scalar(0)];
  for (const { xs, ys } of batches) {
    const next = tf.tidy(() => {
      const logits = model.predict(xs);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(ys, 1)), 'float32'));
      const lossSum = tf.mul(tf.losses.softmaxCrossEntropy(ys, logits), xs.shape[0]);
      return [tf.add(totals[0], correct), tf.add(totals[1], lossSum)];
    });
    tf.dispose(totals);
    totals = next;
  }
  return totals;
}
