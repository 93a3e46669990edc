/**
 * The benchmark body for webgrad and TF.js. It imports only its sibling helpers: `createSuite` receives
 * webgrad, TF.js and an MNIST loader, so the same code runs in a browser page (bench/run.mjs) and in Node
 * on Dawn (`--node`). Every method returns plain JSON-able data. jax-js has its own file (suite_jaxjs.mjs).
 *
 * Timing rules, the same for every library:
 *  - warm-up first (pipelines compiled, data uploaded), never timed;
 *  - a timed run submits its N repetitions back to back and stops the clock only after the GPU has
 *    finished them (webgrad: queue.onSubmittedWorkDone(), or the trainer's own small metrics readback;
 *    TF.js: `await t.data()` on a 1-element result that depends on the last repetition);
 *  - no large readback inside a timed region; results are checked for correctness outside it;
 *  - the figure reported is the median of several runs (all runs are kept in the JSON).
 */

import { median, randomFloats, round, summariseSteps } from './stats.mjs';
import { evaluateTfjs as evaluateTfjsOf, tfjsBatches as tfjsBatchesOf } from './tfjs_data.mjs';

/** A few entries of op(A)·op(B), in float64, to check a result against. */
function spotCheck(a, b, { M, N, K, transA, transB }, got) {
  let worst = 0;
  const picks = [[0, 0], [M - 1, N - 1], [M >> 1, N >> 2], [(M * 7) >> 3, (N * 3) >> 2], [1 % M, (N - 2 + N) % N]];
  for (const [i, j] of picks) {
    let s = 0;
    let norm = 0;
    for (let k = 0; k < K; k++) {
      const av = transA ? a[k * M + i] : a[i * K + k];
      const bv = transB ? b[j * K + k] : b[k * N + j];
      s += av * bv;
      norm += Math.abs(av * bv);
    }
    worst = Math.max(worst, Math.abs(got[i * N + j] - s) / Math.max(norm, 1e-30));
  }
  return worst;
}

const MLP = [784, 128, 64, 10];

export function createSuite({ webgrad, tf, loadMnist, log = () => {} }) {
  const state = {};

  async function gpu() {
    state.gpu ??= await webgrad.requestGpu();
    state.resources ??= new webgrad.GpuResources(state.gpu);
    return state;
  }

  async function mnist() {
    state.mnist ??= await loadMnist();
    return state.mnist;
  }

  // ---------------------------------------------------------------------------------------------------
  // Setup and environment

  async function init() {
    const { gpu: g } = await gpu();
    tf.enableProdMode();
    const ok = await tf.setBackend('webgpu');
    if (!ok) throw new Error('TF.js could not initialise its WebGPU backend');
    await tf.ready();
    const backend = tf.backend();
    const tfInfo = backend.adapterInfo ?? {};
    const tfAdapter = [tfInfo.vendor, tfInfo.architecture, tfInfo.device, tfInfo.description].filter(Boolean).join(' ');
    return {
      webgradAdapter: g.adapterName,
      webgradTimestamps: g.hasTimestamps,
      tfjsVersion: tf.version?.tfjs ?? tf.version_core,
      tfjsBackend: tf.getBackend(),
      tfjsAdapter: tfAdapter || 'unknown',
      tfjsTimestamps: !!backend.supportTimestampQuery,
      tfjsFlags: {
        WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'),
        WEBGPU_MATMUL_PROGRAM_TYPE: tf.env().get('WEBGPU_MATMUL_PROGRAM_TYPE'),
      },
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // a. matmul

  /**
   * One of the engine's matmul kernels alone: one compute pass of `reps` products per run. `variant`
   * 'reference' is the kernel lowering emits (8×8 invocations of 4×4 blocks); 'tuned' is the variant the
   * engine's autotuner picks for this shape on this adapter (webgrad.tuneMatmuls, then selectMatmul, as a
   * training plan gets it; its tuning time is reported and not timed as matmul work). Timed by the engine's
   * harness (webgrad.DispatchTimer) on the wall clock with the submit round trip included, as TF.js is.
   */
  async function matmulWebgrad({ spec, reps, runs, warmup = 2, variant = 'reference' }) {
    const { gpu: g, resources } = await gpu();
    const device = g.device;
    const { M, N, K, transA, transB } = spec;
    const shape = { M, N, K };
    const base = { TRANS_A: !!transA, TRANS_B: !!transB, BIAS: false, ACT: 0, ACT_GRAD: 0 };
    const aligned = webgrad.ALL_ALIGNED;
    const tuneStart = performance.now();
    const table = variant === 'tuned' ? await webgrad.tuneMatmuls(resources, [{ shape, constants: base, alignment: aligned }]) : {};
    const tuneSeconds = (performance.now() - tuneStart) / 1000;
    const selection = webgrad.selectMatmul(shape, base, aligned, table);
    const params = webgrad.kernels.matmul.params;
    const a = randomFloats(M * K, 1);
    const b = randomFloats(K * N, 2);
    const buffers = {
      A: resources.createStorage('bench.A', a),
      B: resources.createStorage('bench.B', b),
      E: resources.createStorage('bench.E', new Float32Array(4)),
      C: resources.createBuffer('bench.C', M * N * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC),
      dummy: resources.createStorage('bench.dummy', new Float32Array(4)),
      params: resources.createBuffer('bench.params', params.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      ...(selection.scratchBytes ? { scratch: resources.createBuffer('bench.scratch', selection.scratchBytes, GPUBufferUsage.STORAGE) } : {}),
    };
    device.queue.writeBuffer(buffers.params, 0, params.pack({ M, N, K, alpha: 0 }));
    const { record } = await webgrad.prepareSelection(resources, selection, buffers);
    const timer = await webgrad.DispatchTimer.create(resources, record, { clock: 'wall', includeOverhead: true });
    await timer.sample(record, warmup);
    const times = [];
    for (let r = 0; r < runs; r++) times.push((await timer.sample(record, reps)) * reps);
    timer.destroy();
    const c = await webgrad.readFloats(resources, buffers.C);
    g.check();
    for (const buffer of Object.values(buffers)) resources.destroyBuffer(buffer);
    return { kernel: selection.variant.id, ...(variant === 'tuned' ? { tuneSeconds: round(tuneSeconds) } : {}), ...summariseMatmul(spec, reps, times, spotCheck(a, b, spec, c)) };
  }

  /** tf.matMul with the transpose flags: TF.js picks its own matmul program for the shape. */
  async function matmulTfjs({ spec, reps, runs, warmup = 2 }) {
    const { M, N, K, transA, transB } = spec;
    const a = randomFloats(M * K, 1);
    const b = randomFloats(K * N, 2);
    const A = tf.tensor2d(a, transA ? [K, M] : [M, K]);
    const B = tf.tensor2d(b, transB ? [N, K] : [K, N]);
    // Ends a run: a 1-element slice of the last product, read back (4 bytes), waits for all prior work.
    const finish = async (last) => {
      const one = tf.slice(last, [M - 1, N - 1], [1, 1]);
      await one.data();
      one.dispose();
      last.dispose();
    };
    let last;
    for (let i = 0; i < warmup; i++) {
      last?.dispose();
      last = tf.matMul(A, B, !!transA, !!transB);
    }
    await finish(last);
    const times = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      let out;
      for (let i = 0; i < reps; i++) {
        out?.dispose();
        out = tf.matMul(A, B, !!transA, !!transB);
      }
      await finish(out);
      times.push(performance.now() - t0);
    }
    const C = tf.matMul(A, B, !!transA, !!transB);
    const c = await C.data();
    tf.dispose([A, B, C]);
    return summariseMatmul(spec, reps, times, spotCheck(a, b, spec, c));
  }

  function summariseMatmul(spec, reps, times, error) {
    const flops = 2 * spec.M * spec.N * spec.K * reps;
    const ms = median(times);
    return {
      reps,
      runsMs: times.map((t) => round(t, 5)),
      medianMs: round(ms, 5),
      msPerMatmul: round(ms / reps, 5),
      gflops: round(flops / (ms / 1000) / 1e9, 4),
      maxRelError: round(error, 3),
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // b/c. MNIST MLP 784-128-64-10, batch 128, SGD lr 0.1 (no momentum)

  const webgradOptions = (batchSize) => ({ model: { layers: MLP }, batchSize, optimizer: { name: 'sgd', lr: 0.1 }, seed: 1 });

  /** Mean time per training step: `steps` steps per run (one trainer epoch over steps × batch samples). */
  async function stepWebgrad({ batchSize, steps, runs }) {
    const { gpu: g } = await gpu();
    const { train } = await mnist();
    const trainer = await webgrad.Trainer.create(g, webgrad.subset(train, 0, steps * batchSize), undefined, webgradOptions(batchSize));
    await trainer.fit({ epochs: 1, evaluate: false }); // warm-up
    const times = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      // fit() resolves after its end-of-epoch metrics readback (16 bytes + optimizer stats): GPU done.
      await trainer.fit({ epochs: 1, evaluate: false });
      times.push(performance.now() - t0);
    }
    const loss = trainer.history.at(-1).loss;
    trainer.destroy();
    g.check();
    return summariseSteps(times, steps, batchSize, { finalLoss: round(loss) });
  }

  function tfjsModel() {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: MLP[1], activation: 'relu', inputShape: [MLP[0]], kernelInitializer: 'heNormal' }),
        tf.layers.dense({ units: MLP[2], activation: 'relu', kernelInitializer: 'heNormal' }),
        tf.layers.dense({ units: MLP[3], kernelInitializer: 'heNormal' }),
      ],
    });
    const optimizer = tf.train.sgd(0.1);
    // Returns the batch's mean loss (a scalar the caller owns); minimize() tidies everything else.
    const step = (x, y) => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x)), true);
    return { model, optimizer, step };
  }

  const tfjsBatches = (ds, count, batchSize, seed) => tfjsBatchesOf(tf, ds, count, batchSize, seed);
  const evaluateTfjs = (model, batches) => evaluateTfjsOf(tf, model, batches);

  async function stepTfjs({ batchSize, steps, runs }) {
    const { train } = await mnist();
    const batches = await tfjsBatches(train, steps * batchSize, batchSize, 7);
    const { model, optimizer, step } = tfjsModel();
    const epoch = async () => {
      let cost;
      for (const { xs, ys } of batches) {
        cost?.dispose();
        cost = step(xs, ys);
      }
      const loss = (await cost.data())[0]; // 4 bytes, after the last step: waits for all of them
      cost.dispose();
      return loss;
    };
    await epoch(); // warm-up: compiles TF.js's pipelines
    const times = [];
    let loss;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      loss = await epoch();
      times.push(performance.now() - t0);
    }
    tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));
    model.dispose();
    optimizer.dispose();
    return summariseSteps(times, steps, batchSize, { finalLoss: round(loss), numTensors: tf.memory().numTensors });
  }

  /** One epoch from fresh weights over `count` training samples, then accuracy on the full test set. */
  async function epochWebgrad({ count, batchSize }) {
    const { gpu: g } = await gpu();
    const { train, test } = await mnist();
    const t0 = performance.now();
    const trainer = await webgrad.Trainer.create(g, webgrad.subset(train, 0, count), test, webgradOptions(batchSize));
    await g.device.queue.onSubmittedWorkDone();
    const setupSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const [report] = await trainer.fit({ epochs: 1, evaluate: false });
    const epochSeconds = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    const evaluation = await trainer.evaluate('test');
    const evalSeconds = (performance.now() - t2) / 1000;
    trainer.destroy();
    g.check();
    return {
      samples: count,
      steps: Math.ceil(count / batchSize),
      setupSeconds: round(setupSeconds),
      epochSeconds: round(epochSeconds),
      samplesPerSecond: round(count / epochSeconds),
      trainLoss: round(report.loss),
      testAccuracy: round(evaluation.accuracy),
      testLoss: round(evaluation.loss),
      evalSeconds: round(evalSeconds),
    };
  }

  async function epochTfjs({ count, batchSize }) {
    const { train, test } = await mnist();
    const t0 = performance.now();
    const batches = await tfjsBatches(train, count, batchSize, 7);
    // The whole test set in one predict(): measured faster on TF.js than chunks of 1,000 (webgrad's default).
    const testBatches = await tfjsBatches(test, test.count, test.count, 0);
    // Compile TF.js's pipelines on a throw-away model of the same shape, so the epoch is not charged
    // for compilation (webgrad compiles in Trainer.create, which is not timed either).
    {
      const warm = tfjsModel();
      const last = batches.at(-1);
      for (const { xs, ys } of [batches[0], last]) warm.step(xs, ys).dispose();
      const totals = evaluateTfjs(warm.model, testBatches.slice(0, 1));
      await totals[0].data();
      tf.dispose(totals);
      warm.model.dispose();
      warm.optimizer.dispose();
    }
    const setupSeconds = (performance.now() - t0) / 1000;

    const { model, optimizer, step } = tfjsModel();
    const t1 = performance.now();
    let cost;
    let lossSum = 0;
    const costs = [];
    for (const { xs, ys } of batches) {
      cost = step(xs, ys);
      costs.push(cost);
    }
    await cost.data(); // waits for the whole epoch; the per-batch losses are read after the clock stops
    const epochSeconds = (performance.now() - t1) / 1000;
    for (let i = 0; i < costs.length; i++) lossSum += (await costs[i].data())[0] * batches[i].ys.shape[0];
    tf.dispose(costs);

    const t2 = performance.now();
    const totals = evaluateTfjs(model, testBatches);
    const accuracy = (await totals[0].data())[0] / test.count;
    const testLoss = (await totals[1].data())[0] / test.count;
    const evalSeconds = (performance.now() - t2) / 1000;
    tf.dispose([...totals, ...[...batches, ...testBatches].flatMap((b) => [b.xs, b.ys])]);
    model.dispose();
    optimizer.dispose();
    return {
      samples: count,
      steps: batches.length,
      setupSeconds: round(setupSeconds),
      epochSeconds: round(epochSeconds),
      samplesPerSecond: round(count / epochSeconds),
      trainLoss: round(lossSum / count),
      testAccuracy: round(accuracy),
      testLoss: round(testLoss),
      evalSeconds: round(evalSeconds),
      numTensors: tf.memory().numTensors,
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // d. per-kernel GPU time in one training step (timestamp queries)

  /**
   * The engine's own profiler (Trainer.profileStep): one training step with every dispatch in its own
   * compute pass with timestampWrites, per dispatch the median over `repeats` steps. Splitting the pass adds
   * pass boundaries, so the sum can exceed the unsplit step.
   */
  async function kernelsWebgrad({ batchSize, repeats }) {
    const { gpu: g } = await gpu();
    if (!g.hasTimestamps) return { skipped: 'the adapter has no timestamp-query' };
    const { train } = await mnist();
    const trainer = await webgrad.Trainer.create(g, webgrad.subset(train, 0, batchSize), undefined, webgradOptions(batchSize));
    await trainer.fit({ epochs: 1, evaluate: false });
    try {
      const timings = await trainer.profileStep(repeats);
      const kernels = timings.map((t) => ({ name: t.label, kernel: t.kernel, ms: round(t.milliseconds, 4) }));
      return { batchSize, repeats, dispatches: kernels.length, totalMs: round(kernels.reduce((s, k) => s + k.ms, 0), 4), kernels };
    } finally {
      trainer.destroy();
      g.check();
    }
  }

  /** TF.js's own profiler: tf.profile() times every kernel with timestamp queries on this backend. */
  async function kernelsTfjs({ batchSize, repeats }) {
    if (!tf.backend().supportTimestampQuery) return { skipped: 'the TF.js device has no timestamp-query' };
    const { train } = await mnist();
    const [batch] = await tfjsBatches(train, batchSize, batchSize, 7);
    const { model, optimizer, step } = tfjsModel();
    step(batch.xs, batch.ys).dispose(); // warm-up
    const runs = [];
    let names;
    for (let rep = 0; rep < repeats; rep++) {
      const profile = await tf.profile(() => {
        step(batch.xs, batch.ys).dispose();
      });
      names = profile.kernels.map((k) => k.name);
      runs.push(profile.kernels.map((k) => (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : NaN)));
    }
    tf.dispose([batch.xs, batch.ys]);
    model.dispose();
    optimizer.dispose();
    const kernels = names.map((name, i) => ({ name, ms: round(median(runs.map((run) => run[i] ?? NaN)), 4) }));
    return { batchSize, repeats, dispatches: kernels.length, totalMs: round(kernels.reduce((s, k) => s + (Number.isFinite(k.ms) ? k.ms : 0), 0), 4), kernels };
  }

  /** Matmul variants the engine's autotuner chose on this device during this session, when the build has one. */
  async function engineInfo() {
    if (typeof webgrad.autotuneChoices !== 'function') return null;
    const { resources } = await gpu();
    return { autotuneChoices: await webgrad.autotuneChoices(resources) };
  }

  return { init, engineInfo, matmulWebgrad, matmulTfjs, stepWebgrad, stepTfjs, epochWebgrad, epochTfjs, kernelsWebgrad, kernelsTfjs, log };
}
