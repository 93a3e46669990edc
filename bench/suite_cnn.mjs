/**
 * The CNN section: one model (a torch.nn-style layer list, models/cnn.json, handed in by bench/run.mjs)
 * trained by webgrad (`Trainer`, NCHW) and by TF.js layers on its WebGPU backend (tf.sequential, NHWC), in
 * the same page on the same adapter, under suite.mjs's timing rules: warm-up untimed, the clock stopped only
 * once the GPU is done (webgrad: `fit`'s own metrics readback; TF.js: a 4-byte read of the last loss),
 * medians of several runs.
 *
 * The same model on both sides: Conv2d padding p with kernel k becomes 'same' when p = (k - 1) / 2 and
 * 'valid' when p = 0; a ReLU right after a Conv2d or Linear becomes that layer's fused activation in TF.js
 * (webgrad fuses it too); BatchNorm2d keeps PyTorch's momentum 0.1 and eps 1e-5 (TF.js momentum 0.9,
 * epsilon 1e-5); He-normal weights on both sides; SGD with momentum (v = μv + g, w -= lr·v on both sides);
 * softmax cross-entropy; batch 128. The data are the same MNIST bytes scaled to [0, 1]: for one input
 * channel NCHW and NHWC are the same bytes in the same order. TF.js trains on pre-uploaded GPU batches in a
 * fixed shuffled order; webgrad shuffles on the GPU with its seed.
 *
 * Conv kernels: the per-kernel profiles of one training step (webgrad's `Trainer.profileStep`, TF.js's
 * `tf.profile`, both from WebGPU timestamp queries) are matched to the model's conv layers: the forward, the
 * input gradient and the weight gradient of each, webgrad's weight gradient counting both of its passes
 * (partial sums, then their reduction) and its bias gradient, which it computes in the same pass; for a
 * layer run as a matmul, every dispatch of the computation (im2col, layout changes, col2im included).
 */
import { median, round, summariseSteps } from './stats.mjs';
import { evaluateTfjs as evaluateTfjsOf, tfjsBatches as tfjsBatchesOf } from './tfjs_data.mjs';

export const CNN_LR = 0.05;
export const CNN_MOMENTUM = 0.9;

/** The layers' output shapes [C, H, W] (or [F]) for a [C, H, W] sample, and each Conv2d's geometry. */
export function convGeometry(layers, sample = [1, 28, 28]) {
  let shape = sample;
  const convs = [];
  layers.forEach((l, index) => {
    if (l.type === 'Conv2d') {
      const k = l.kernel_size;
      const s = l.stride ?? 1;
      const p = l.padding ?? 0;
      const [c, h, w] = shape;
      const out = [l.out_channels, Math.floor((h + 2 * p - k) / s) + 1, Math.floor((w + 2 * p - k) / s) + 1];
      convs.push({ index, inChannels: c, inH: h, inW: w, outChannels: out[0], outH: out[1], outW: out[2], kernel: k, stride: s, padding: p });
      shape = out;
    } else if (l.type === 'MaxPool2d') {
      const k = l.kernel_size;
      const s = l.stride ?? k;
      shape = [shape[0], Math.floor((shape[1] - k) / s) + 1, Math.floor((shape[2] - k) / s) + 1];
    } else if (l.type === 'Flatten') shape = [shape.reduce((a, b) => a * b, 1)];
    else if (l.type === 'Linear') shape = [l.out_features];
  });
  return convs;
}

/** FLOPs of one conv computation (forward, input gradient or weight gradient: the same count) at batch B. */
const convFlops = (g, batch) => 2 * batch * g.outChannels * g.outH * g.outW * g.inChannels * g.kernel * g.kernel;

export function createCnnSuite({ webgrad, tf, loadMnist, log = () => {} }) {
  const state = {};
  // Progress of the long TF.js phases (minutes on SwiftShader), as page console lines.
  const started = performance.now();
  const progress = (what) => log(`cnn +${((performance.now() - started) / 1000).toFixed(0)} s: ${what}`);

  async function gpu() {
    state.gpu ??= await webgrad.requestGpu();
    return state.gpu;
  }

  async function mnist() {
    state.mnist ??= await loadMnist();
    return state.mnist;
  }

  const webgradOptions = (layers, batchSize) => ({ model: layers, batchSize, optimizer: { name: 'momentum', lr: CNN_LR, momentum: CNN_MOMENTUM }, seed: 1 });

  // ---------------------------------------------------------------------------------------------------
  // TF.js: the model from the layer list

  function tfjsCnn(layers) {
    const out = [];
    let first = true;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      const input = first ? { inputShape: [28, 28, 1] } : {};
      const fuseRelu = layers[i + 1]?.type === 'ReLU' && (l.type === 'Conv2d' || l.type === 'Linear');
      const activation = fuseRelu ? { activation: 'relu' } : {};
      if (l.type === 'Conv2d') {
        const k = l.kernel_size;
        const p = l.padding ?? 0;
        const padding = p === 0 ? 'valid' : 2 * p === k - 1 ? 'same' : null;
        if (!padding || (l.stride ?? 1) !== 1) throw new Error(`Conv2d padding ${p} with kernel ${k} (stride ${l.stride ?? 1}) has no TF.js 'same'/'valid' equivalent`);
        out.push(tf.layers.conv2d({ ...input, filters: l.out_channels, kernelSize: k, padding, kernelInitializer: 'heNormal', ...activation }));
      } else if (l.type === 'BatchNorm2d') out.push(tf.layers.batchNormalization({ ...input, axis: -1, momentum: 1 - (l.momentum ?? 0.1), epsilon: l.eps ?? 1e-5 }));
      else if (l.type === 'ReLU') out.push(tf.layers.reLU(input));
      else if (l.type === 'MaxPool2d') out.push(tf.layers.maxPooling2d({ ...input, poolSize: l.kernel_size, strides: l.stride ?? l.kernel_size }));
      else if (l.type === 'Flatten') out.push(tf.layers.flatten(input));
      else if (l.type === 'Linear') out.push(tf.layers.dense({ ...input, units: l.out_features, kernelInitializer: 'heNormal', ...activation }));
      else if (l.type === 'Dropout') out.push(tf.layers.dropout({ ...input, rate: l.p ?? 0.5 }));
      else throw new Error(`layer ${l.type} has no TF.js equivalent in bench/suite_cnn.mjs`);
      if (fuseRelu) i++;
      first = false;
    }
    const model = tf.sequential({ layers: out });
    const optimizer = tf.train.momentum(CNN_LR, CNN_MOMENTUM);
    // training: true for batch statistics (and their running averages) and dropout, as in webgrad's step.
    const step = (x, y) => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true);
    const dispose = () => {
      model.dispose();
      optimizer.dispose();
    };
    return { model, optimizer, step, dispose };
  }

  /** NHWC GPU batches [rows, 28, 28, 1] and one-hot labels, in the fixed shuffled order of `seed`, uploaded now. */
  const tfjsBatches = (ds, count, batchSize, seed, shuffle = true) => tfjsBatchesOf(tf, ds, count, batchSize, seed, { sampleShape: [28, 28, 1], shuffle });

  const disposeBatches = (batches) => tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));

  /** Compiles TF.js's pipelines (a training step per distinct batch size) on a throw-away model. */
  async function warmTfjs(layers, batches) {
    progress('TF.js warm-up (pipelines compiled on a throw-away model)');
    const warm = tfjsCnn(layers);
    const shapes = [batches[0], batches.at(-1)].filter((b, i, all) => i === 0 || b.rows !== all[0].rows);
    let cost;
    for (const { xs, ys } of shapes) {
      cost?.dispose();
      cost = warm.step(xs, ys);
    }
    await cost.data();
    cost.dispose();
    warm.dispose();
  }

  /** [correct, summed loss] over the test batches (inference mode), accumulated on the GPU, read once. */
  async function evaluateTfjs(model, batches) {
    const totals = evaluateTfjsOf(tf, model, batches);
    const [correct, lossSum] = [(await totals[0].data())[0], (await totals[1].data())[0]];
    tf.dispose(totals);
    return { correct, lossSum };
  }

  // ---------------------------------------------------------------------------------------------------
  // Step time: `steps` steps per run, median of `runs`

  async function cnnStepWebgrad({ layers, batchSize, steps, runs }) {
    const g = await gpu();
    const { train } = await mnist();
    const t0 = performance.now();
    const trainer = await webgrad.Trainer.create(g, webgrad.subset(train, 0, steps * batchSize), undefined, webgradOptions(layers, batchSize));
    const setupSeconds = (performance.now() - t0) / 1000;
    try {
      await trainer.fit({ epochs: 1, evaluate: false }); // warm-up
      const times = [];
      for (let r = 0; r < runs; r++) {
        const t1 = performance.now();
        await trainer.fit({ epochs: 1, evaluate: false }); // resolves after its metrics readback: GPU done
        times.push(performance.now() - t1);
      }
      return summariseSteps(times, steps, batchSize, { finalLoss: round(trainer.history.at(-1).loss), setupSeconds: round(setupSeconds) });
    } finally {
      trainer.destroy();
      g.check();
    }
  }

  async function cnnStepTfjs({ layers, batchSize, steps, runs }) {
    const { train } = await mnist();
    const batches = await tfjsBatches(train, steps * batchSize, batchSize, 7);
    await warmTfjs(layers, batches);
    const net = tfjsCnn(layers);
    try {
      const epoch = async () => {
        let cost;
        for (const { xs, ys } of batches) {
          cost?.dispose();
          cost = net.step(xs, ys);
        }
        const loss = (await cost.data())[0];
        cost.dispose();
        return loss;
      };
      const times = [];
      let loss;
      for (let r = 0; r < runs; r++) {
        progress(`TF.js step run ${r + 1} of ${runs}`);
        const t0 = performance.now();
        loss = await epoch();
        times.push(performance.now() - t0);
      }
      return summariseSteps(times, steps, batchSize, { finalLoss: round(loss) });
    } finally {
      net.dispose();
      disposeBatches(batches);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Epoch: fresh weights, `count` training samples, then accuracy on the first `testCount` test images

  async function cnnEpochWebgrad({ layers, count, testCount, batchSize, evalBatchSize = 1000 }) {
    const g = await gpu();
    const { train, test } = await mnist();
    const t0 = performance.now();
    const trainer = await webgrad.Trainer.create(g, webgrad.subset(train, 0, count), webgrad.subset(test, 0, testCount), { ...webgradOptions(layers, batchSize), evalBatchSize });
    await g.device.queue.onSubmittedWorkDone();
    const setupSeconds = (performance.now() - t0) / 1000;
    try {
      const t1 = performance.now();
      const [report] = await trainer.fit({ epochs: 1, evaluate: false });
      const epochSeconds = (performance.now() - t1) / 1000;
      const t2 = performance.now();
      const evaluation = await trainer.evaluate('test');
      const evalSeconds = (performance.now() - t2) / 1000;
      return {
        samples: count,
        steps: Math.ceil(count / batchSize),
        testSamples: testCount,
        setupSeconds: round(setupSeconds),
        epochSeconds: round(epochSeconds),
        samplesPerSecond: round(count / epochSeconds),
        trainLoss: round(report.loss),
        testAccuracy: round(evaluation.accuracy),
        testLoss: round(evaluation.loss),
        evalSeconds: round(evalSeconds),
      };
    } finally {
      trainer.destroy();
      g.check();
    }
  }

  async function cnnEpochTfjs({ layers, count, testCount, batchSize, evalBatchSize = 1000 }) {
    const { train, test } = await mnist();
    const t0 = performance.now();
    const batches = await tfjsBatches(train, count, batchSize, 7);
    const testBatches = await tfjsBatches(test, testCount, evalBatchSize, 0, false);
    await warmTfjs(layers, batches);
    const net = tfjsCnn(layers);
    {
      // Compiles the inference pipelines (not timed, as webgrad's are built in Trainer.create).
      const first = testBatches.slice(0, 1);
      await evaluateTfjs(net.model, first);
    }
    const setupSeconds = (performance.now() - t0) / 1000;
    try {
      progress(`TF.js epoch of ${count} samples`);
      const t1 = performance.now();
      const costs = batches.map(({ xs, ys }) => net.step(xs, ys));
      await costs.at(-1).data(); // waits for the whole epoch; the per-batch losses are read after the clock stops
      const epochSeconds = (performance.now() - t1) / 1000;
      let lossSum = 0;
      for (let i = 0; i < costs.length; i++) lossSum += (await costs[i].data())[0] * batches[i].rows;
      tf.dispose(costs);
      progress(`TF.js evaluation of ${testCount} test images`);
      const t2 = performance.now();
      const { correct, lossSum: testLossSum } = await evaluateTfjs(net.model, testBatches);
      const evalSeconds = (performance.now() - t2) / 1000;
      return {
        samples: count,
        steps: batches.length,
        testSamples: testCount,
        setupSeconds: round(setupSeconds),
        epochSeconds: round(epochSeconds),
        samplesPerSecond: round(count / epochSeconds),
        trainLoss: round(lossSum / count),
        testAccuracy: round(correct / testCount),
        testLoss: round(testLossSum / testCount),
        evalSeconds: round(evalSeconds),
        numTensors: tf.memory().numTensors,
      };
    } finally {
      net.dispose();
      disposeBatches([...batches, ...testBatches]);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Per-kernel GPU times of one training step, and the conv kernels matched to the model's layers

  async function cnnKernelsWebgrad({ layers, batchSize, repeats }) {
    const g = await gpu();
    if (!g.hasTimestamps) return { skipped: 'the adapter has no timestamp-query' };
    const { train } = await mnist();
    const trainer = await webgrad.Trainer.create(g, webgrad.subset(train, 0, batchSize), undefined, webgradOptions(layers, batchSize));
    try {
      await trainer.fit({ epochs: 1, evaluate: false });
      const timings = await trainer.profileStep(repeats);
      const kernels = timings.map((t) => ({ name: t.label, kernel: t.kernel, ms: round(t.milliseconds, 4) }));
      return { batchSize, repeats, dispatches: kernels.length, totalMs: round(kernels.reduce((s, k) => s + k.ms, 0), 4), kernels, conv: webgradConvKernels(layers, kernels) };
    } finally {
      trainer.destroy();
      g.check();
    }
  }

  async function cnnKernelsTfjs({ layers, batchSize, repeats }) {
    if (!tf.backend().supportTimestampQuery) return { skipped: 'the TF.js device has no timestamp-query (kernelMs not available)' };
    const { train } = await mnist();
    const [batch] = await tfjsBatches(train, batchSize, batchSize, 7);
    const net = tfjsCnn(layers);
    try {
      const warm = net.step(batch.xs, batch.ys);
      await warm.data();
      warm.dispose();
      const runs = [];
      let list;
      for (let rep = 0; rep < repeats; rep++) {
        progress(`TF.js profiled step ${rep + 1} of ${repeats}`);
        const profile = await tf.profile(() => {
          net.step(batch.xs, batch.ys).dispose();
        });
        list = profile.kernels.map((k) => ({ name: k.name, inputShapes: k.inputShapes, outputShapes: k.outputShapes }));
        runs.push(profile.kernels.map((k) => (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : NaN)));
      }
      const kernels = list.map((k, i) => ({ ...k, ms: round(median(runs.map((run) => run[i] ?? NaN)), 4) }));
      const totalMs = round(kernels.reduce((s, k) => s + (Number.isFinite(k.ms) ? k.ms : 0), 0), 4);
      return { batchSize, repeats, dispatches: kernels.length, totalMs, kernels: kernels.map(({ name, ms }) => ({ name, ms })), conv: tfjsConvKernels(layers, kernels, batchSize) };
    } finally {
      net.dispose();
      disposeBatches([batch]);
    }
  }

  return { cnnStepWebgrad, cnnStepTfjs, cnnEpochWebgrad, cnnEpochTfjs, cnnKernelsWebgrad, cnnKernelsTfjs };
}

/**
 * The conv dispatches by layer, from the plan's labels. A layer on the direct kernels: forward
 * `conv2d→l<i or a fused successor>` in layer order; input gradient `conv2d_grad_input→dl<i-1>`; weight
 * gradient `conv2d_grad_weight→d<i>.weight…` plus its reduction. A layer run as a matmul
 * (src/graph/ops_im2col.ts): forward `im2col→l<i>.cols`, `matmul→l<i>.rows` and the channels_first after
 * it; input gradient `channels_last→dl<i>.rows` (shared with the weight gradient, counted here once),
 * `matmul→dl<i>.cols` and the col2im after it; weight gradient `matmul→d<i>.weight.matrix,…` (the bias
 * gradient in the same pass), plus the channels_last when the layer has no input gradient.
 */
export function webgradConvKernels(layers, kernels) {
  const forwards = kernels.filter((k) => /^conv2d→/.test(k.name));
  const named = (name) => kernels.findIndex((k) => k.name === name);
  const after = (index, op) => (index < 0 ? [] : kernels.slice(index + 1).filter((k) => k.name.startsWith(`${op}→`)).slice(0, 1));
  let direct = 0;
  return convGeometry(layers).map((g) => {
    const i = g.index;
    const sum = (ks) => (ks.length ? { ms: round(ks.reduce((s, k) => s + k.ms, 0), 4), kernels: ks.map((k) => k.kernel) } : null);
    const rows = named(`matmul→l${i}.rows`);
    if (rows >= 0) {
      const layout = kernels.filter((k) => k.name === `channels_last→dl${i}.rows`);
      const cols = named(`matmul→dl${i}.cols`);
      const gradInput = cols >= 0 ? [...layout, kernels[cols], ...after(cols, 'col2im')] : [];
      const weight = kernels.filter((k) => k.name.startsWith(`matmul→d${i}.weight.matrix`));
      return {
        layer: i,
        forward: sum([...kernels.filter((k) => k.name === `im2col→l${i}.cols`), kernels[rows], ...after(rows, 'channels_first')]),
        gradInput: sum(gradInput),
        gradWeight: sum(cols >= 0 ? weight : [...layout, ...weight]),
      };
    }
    const forward = forwards[direct++];
    const gradInput = kernels.filter((k) => k.name.startsWith(`conv2d_grad_input→dl${i - 1},`) || k.name === `conv2d_grad_input→dl${i - 1}`);
    const gradWeight = kernels.filter((k) => /^conv2d_grad_weight(_reduce)?→/.test(k.name) && k.name.split('→')[1].startsWith(`d${i}.weight`));
    return { layer: i, forward: forward ? sum([forward]) : null, gradInput: sum(gradInput), gradWeight: sum(gradWeight) };
  });
}

/** TF.js's conv kernels by layer, told apart by their shapes (NHWC): x for the forward and the filter gradient, dy for the input gradient. */
export function tfjsConvKernels(layers, kernels, batch) {
  const same = (a, b) => Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
  const pick = (names, shape) => {
    const ks = kernels.filter((k) => names.includes(k.name) && same(k.inputShapes?.[0], shape));
    return ks.length ? { ms: round(ks.reduce((s, k) => s + k.ms, 0), 4), kernels: ks.map((k) => k.name) } : null;
  };
  return convGeometry(layers).map((g) => {
    const x = [batch, g.inH, g.inW, g.inChannels];
    const dy = [batch, g.outH, g.outW, g.outChannels];
    return {
      layer: g.index,
      forward: pick(['Conv2D', 'FusedConv2D'], x),
      gradInput: pick(['Conv2DBackpropInput'], dy),
      gradWeight: pick(['Conv2DBackpropFilter'], x),
    };
  });
}

/**
 * The conv comparison table: per conv layer and computation, both times, TF.js / webgrad and GFLOP/s,
 * and whether webgrad reaches `target`× TF.js. Computations webgrad does not run (the first layer's input
 * gradient) are left out.
 */
export function convComparison(layers, webgradConv, tfjsConv, batchSize, target = 5) {
  const rows = [];
  for (const g of convGeometry(layers)) {
    const w = webgradConv?.find((c) => c.layer === g.index);
    const t = tfjsConv?.find((c) => c.layer === g.index);
    const flops = convFlops(g, batchSize);
    for (const computation of ['forward', 'gradInput', 'gradWeight']) {
      const a = w?.[computation];
      const b = t?.[computation];
      if (!a && !b) continue;
      const ratio = a && b ? round(b.ms / a.ms, 3) : null;
      rows.push({
        layer: g.index,
        shape: `${g.inChannels}→${g.outChannels} k${g.kernel} p${g.padding}, ${g.inH}×${g.inW}→${g.outH}×${g.outW}`,
        computation,
        gflop: round(flops / 1e9, 4),
        webgradMs: a?.ms ?? null,
        webgradKernels: a?.kernels ?? [],
        webgradGflops: a ? round(flops / (a.ms * 1e6), 3) : null,
        tfjsMs: b?.ms ?? null,
        tfjsKernels: b?.kernels ?? [],
        tfjsGflops: b ? round(flops / (b.ms * 1e6), 3) : null,
        ratio,
        meetsTarget: ratio === null ? null : ratio >= target,
      });
    }
  }
  return { target, rows, allMeetTarget: rows.length > 0 && rows.every((r) => r.meetsTarget === true) };
}
