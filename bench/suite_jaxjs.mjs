/**
 * jax-js (`@jax-js/jax`) on its WebGPU device, trained the way its own MNIST demo trains: a jit-compiled
 * function of (params, x, y), the gradient from `valueAndGrad`, and the host awaiting the new parameters
 * (`blockUntilReady`) after every step before it sends the next one. The model and data are those of the
 * other libraries in suite.mjs: 784-128-64-10 ReLU, He-normal weights and zero biases, softmax cross-entropy
 * (log-softmax · one-hot, as the demo writes it), plain SGD at lr 0.1, batch 128, the training samples in
 * TF.js's shuffled order, pre-uploaded as GPU arrays (TF.js's batches are too; none of it is timed).
 *
 * `createJaxSuite` receives the jax-js module and an MNIST loader, so it runs in a browser page and, where
 * jax-js finds a navigator.gpu, in Node. jax-js frees memory by reference counting: every function takes
 * ownership of its Array arguments, so an array used again later is passed as `x.ref` (or `tree.ref(p)`).
 */
import { hostBatches, round, summariseSteps } from './stats.mjs';

const MLP = [784, 128, 64, 10];
const LR = 0.1;

export function createJaxSuite({ jax, loadMnist }) {
  const { numpy: np, nn, random, tree } = jax;
  const state = {};

  async function mnist() {
    state.mnist ??= await loadMnist();
    return state.mnist;
  }

  /** Starts jax-js's WebGPU backend and makes it the default device; describes it. */
  async function initJaxjs() {
    const available = await jax.init('webgpu');
    if (!available.includes('webgpu')) throw new Error(`jax-js found no WebGPU device (it has: ${available.join(', ') || 'none'})`);
    jax.defaultDevice('webgpu');
    const device = jax.getWebGPUDevice?.();
    const info = device?.adapterInfo ?? {};
    const adapter = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
    return { jaxjsDevice: jax.defaultDevice(), jaxjsAdapter: adapter || (device ? 'adapter name hidden' : 'unknown') };
  }

  /** He-normal weights [in, out] (x·W, as the demo lays them out) and zero biases, from a jax-js PRNG key. */
  function initParams(seed) {
    const params = {};
    for (let l = 0; l < MLP.length - 1; l++) {
      const [fanIn, fanOut] = [MLP[l], MLP[l + 1]];
      params[`w${l + 1}`] = random.normal(random.key(seed * 16 + l), [fanIn, fanOut]).mul(Math.sqrt(2 / fanIn));
      params[`b${l + 1}`] = np.zeros([fanOut]);
    }
    return params;
  }

  /** Logits; consumes params and x. */
  function predict(params, x) {
    const h1 = nn.relu(np.dot(x, params.w1).add(params.b1));
    const h2 = nn.relu(np.dot(h1, params.w2).add(params.b2));
    return np.dot(h2, params.w3).add(params.b3);
  }

  /** Mean softmax cross-entropy of the batch; consumes everything. */
  function loss(params, x, y) {
    const rows = y.shape[0];
    return nn.logSoftmax(predict(params, x)).mul(nn.oneHot(y, MLP.at(-1))).sum().mul(-1 / rows);
  }

  /** One SGD step, jit-compiled (one trace per batch shape): returns [loss, new params]. */
  const step = jax.jit((params, x, y) => {
    const [value, grads] = jax.valueAndGrad(loss)(tree.ref(params), x, y);
    return [value, tree.map((p, g) => p.sub(g.mul(LR)), params, grads)];
  });

  /** [correct predictions, summed loss] over one batch, jit-compiled; keeps params. */
  const evaluateBatch = jax.jit((params, x, y) => {
    const logits = predict(params, x);
    const correct = np.argmax(logits.ref, 1).equal(y.ref).astype(np.float32).sum();
    const lossSum = nn.logSoftmax(logits).mul(nn.oneHot(y, MLP.at(-1))).sum().mul(-1);
    return [correct, lossSum];
  });

  /** The batches as jax-js GPU arrays, uploaded and awaited before anything is timed. */
  async function deviceBatches(ds, count, batchSize, seed) {
    const batches = hostBatches(ds, count, batchSize, seed).map(({ x, labels, rows, features }) => ({
      x: np.array(x).reshape([rows, features]),
      y: np.array(labels, { dtype: np.int32 }),
      rows,
    }));
    await jax.blockUntilReady(batches.map(({ x, y }) => [x, y]));
    return batches;
  }

  const disposeBatches = (batches) => tree.dispose(batches.map(({ x, y }) => [x, y]));

  /** Trains over `batches` once, awaiting each step as the demo does; returns the final params and the loss arrays. */
  async function trainEpoch(params, batches) {
    const losses = [];
    for (const { x, y } of batches) {
      const [value, next] = step(params, x.ref, y.ref);
      params = next;
      await jax.blockUntilReady(params);
      losses.push(value);
    }
    return { params, losses };
  }

  /** Reads the per-step losses (after the clock stops; `data()` frees each); returns the sample-weighted mean. */
  async function meanLoss(losses, batches) {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < losses.length; i++) {
      sum += (await losses[i].data())[0] * batches[i].rows;
      count += batches[i].rows;
    }
    return sum / count;
  }

  /** Compiles the step for each batch shape in `batches` on throw-away params (not timed, as for TF.js). */
  async function warmUp(batches) {
    const shapes = [batches[0], batches.at(-1)].filter((b, i, all) => i === 0 || b.rows !== all[0].rows);
    const { params, losses } = await trainEpoch(initParams(99), shapes);
    tree.dispose([params, losses]);
  }

  async function stepJaxjs({ batchSize, steps, runs }) {
    const { train } = await mnist();
    const batches = await deviceBatches(train, steps * batchSize, batchSize, 7);
    await warmUp(batches);
    let params = initParams(1);
    await jax.blockUntilReady(params);
    const times = [];
    let finalLoss;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const result = await trainEpoch(params, batches);
      times.push(performance.now() - t0);
      params = result.params;
      tree.dispose(result.losses.slice(0, -1));
      finalLoss = (await result.losses.at(-1).data())[0];
    }
    tree.dispose(params);
    disposeBatches(batches);
    return summariseSteps(times, steps, batchSize, { finalLoss: round(finalLoss) });
  }

  /** One epoch from fresh weights over `count` training samples, then accuracy on the full test set. */
  async function epochJaxjs({ count, batchSize }) {
    const { train, test } = await mnist();
    const t0 = performance.now();
    const batches = await deviceBatches(train, count, batchSize, 7);
    // The test set in batches of 1,000 (webgrad's evaluation batch): with one batch of 10,000, as TF.js
    // takes it, jax-js 0.1.25 lost its device on SwiftShader in our first try.
    const testBatches = await deviceBatches(test, test.count, 1000, 0);
    await warmUp(batches);
    let params = initParams(1);
    await jax.blockUntilReady(params);
    {
      const [c, l] = evaluateBatch(tree.ref(params), testBatches[0].x.ref, testBatches[0].y.ref);
      await c.data(); // data() reads and frees an array
      l.dispose();
    }
    const setupSeconds = (performance.now() - t0) / 1000;

    const t1 = performance.now();
    const result = await trainEpoch(params, batches);
    const epochSeconds = (performance.now() - t1) / 1000;
    params = result.params;
    const trainLoss = await meanLoss(result.losses, batches);

    const t2 = performance.now();
    let correct = 0;
    let lossSum = 0;
    for (const { x, y } of testBatches) {
      const [c, l] = evaluateBatch(tree.ref(params), x.ref, y.ref);
      correct += (await c.data())[0];
      lossSum += (await l.data())[0];
    }
    const evalSeconds = (performance.now() - t2) / 1000;
    tree.dispose(params);
    disposeBatches([...batches, ...testBatches]);
    return {
      samples: count,
      steps: batches.length,
      setupSeconds: round(setupSeconds),
      epochSeconds: round(epochSeconds),
      samplesPerSecond: round(count / epochSeconds),
      trainLoss: round(trainLoss),
      testAccuracy: round(correct / test.count),
      testLoss: round(lossSum / test.count),
      evalSeconds: round(evalSeconds),
    };
  }

  return { initJaxjs, stepJaxjs, epochJaxjs };
}
