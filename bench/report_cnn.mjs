/**
 * The CNN part of bench/RESULTS.md (the `cnn` section of bench/run.mjs, bench/suite_cnn.mjs): one section
 * per mode, from the newest result file of that mode that has a CNN run (a complete run or `--only=cnn`).
 */
import { kernelTimeLines, num, ratio, table } from './report_format.mjs';

const COMPUTATION = { forward: 'forward', gradInput: 'input gradient', gradWeight: 'weight gradient' };

function describeLayers(layers) {
  return layers
    .map((l) => {
      if (l.type === 'Conv2d') return `Conv2d ${l.in_channels}→${l.out_channels} k${l.kernel_size}${l.padding ? ` p${l.padding}` : ''}`;
      if (l.type === 'Linear') return `Linear ${l.in_features}→${l.out_features}`;
      if (l.type === 'MaxPool2d') return `MaxPool2d ${l.kernel_size}`;
      if (l.type === 'Dropout') return `Dropout ${l.p}`;
      return l.type;
    })
    .join(', ');
}

/** True when the result file has a CNN run worth a section. */
export const hasCnn = (r) => !!r?.cnn && (r.cnn.step || r.cnn.epoch || r.cnn.kernels);

export function cnnSection(r, file) {
  const c = r.cnn;
  const env = r.environment ?? {};
  const libs = r.libraries ?? {};
  const s = r.settings?.cnn ?? {};
  const out = [];
  out.push(`## CNN, ${r.mode} — ${r.date?.slice(0, 16).replace('T', ' ')} UTC${r.only ? ` (partial run: ${r.only.join(', ')})` : ''}`, '');
  out.push(`- Source: \`bench/results/${file}\`${r.seconds ? ` (whole run ${r.seconds} s)` : ''}`);
  if (r.note) out.push(`- **Note:** ${r.note}`);
  if (r.webgrad?.commit) out.push(`- webgrad: commit ${r.webgrad.commit}${r.webgrad.uncommittedEngineFiles ? ` plus ${r.webgrad.uncommittedEngineFiles} uncommitted file(s) in src/ and shaders/` : ''}`);
  out.push(`- Model (\`${c.file ?? 'models/cnn.json'}\`): ${describeLayers(c.layers ?? [])}; batch ${c.batchSize}, ${s.optimizer ?? 'SGD with momentum'}, softmax cross-entropy`);
  out.push(env.host === 'chromium' ? `- Chromium: ${env.browser}` : `- Node ${env.node}, Dawn from the \`webgpu\` package`);
  out.push(`- Adapter: webgrad sees **${libs.webgradAdapter ?? '?'}**${libs.webgradTimestamps ? ' (timestamp-query)' : ''}; TF.js ${libs.tfjsVersion ?? '?'} (\`${libs.tfjsBackend ?? '?'}\`) sees **${libs.tfjsAdapter ?? '?'}**`);
  const load = env.loadAverageAtStart ? `; load average at start ${env.loadAverageAtStart.join(' / ')}${env.loadAverageAtEnd ? `, at end ${env.loadAverageAtEnd.join(' / ')}` : ''}` : '';
  out.push(`- Host CPU: ${env.cpus} × ${env.cpuModel ?? '?'}${load}`, '');
  out.push(
    'Same model on both sides: webgrad `Trainer` (NCHW) and TF.js layers `tf.sequential` (NHWC: conv2d with `same`/`valid` padding for p = 2/0, ' +
      'batchNormalization momentum 0.9 and epsilon 1e-5 as PyTorch\'s 0.1/1e-5, ReLU fused into the conv/dense before it, maxPooling2d, flatten, dense, dropout), ' +
      'He-normal weights, the same MNIST bytes; TF.js steps with `optimizer.minimize` on pre-uploaded GPU batches (`training: true`). ' +
      'Warm-up untimed; a run\'s clock stops when the GPU is done; medians of runs. Ratios are TF.js time / webgrad time (above 1: webgrad faster).',
    '',
  );

  if (c.step || c.epoch) {
    const rows = [];
    if (c.step) {
      const { webgrad: w, tfjs: t } = c.step;
      rows.push([`step time (ms; ${w.steps} step${w.steps === 1 ? '' : 's'} per run, median of ${w.runsMs?.length ?? '?'})`, num(w.msPerStep), num(t.msPerStep), ratio(c.step.ratio)]);
      rows.push(['samples / s (steps)', num(w.samplesPerSecond), num(t.samplesPerSecond), ratio(w.samplesPerSecond / t.samplesPerSecond)]);
    }
    if (c.epoch) {
      const { webgrad: w, tfjs: t } = c.epoch;
      rows.push([`epoch time (s; ${num(w.samples, 6)} samples, ${w.steps} steps, fresh weights)`, num(w.epochSeconds), num(t.epochSeconds), ratio(c.epoch.ratio)]);
      rows.push(['samples / s (epoch)', num(w.samplesPerSecond), num(t.samplesPerSecond), ratio(w.samplesPerSecond / t.samplesPerSecond)]);
      rows.push([`test accuracy after the epoch (first ${num(w.testSamples, 6)} test images)`, num(w.testAccuracy, 4), num(t.testAccuracy, 4), '—']);
      rows.push(['train loss (epoch mean)', num(w.trainLoss, 4), num(t.trainLoss, 4), '—']);
      rows.push(['test evaluation (s)', num(w.evalSeconds), num(t.evalSeconds), ratio(t.evalSeconds / w.evalSeconds)]);
      rows.push(['setup, not timed (s)', num(w.setupSeconds), num(t.setupSeconds), '—']);
    }
    out.push('### step and epoch', '', table(['', 'webgrad', 'TF.js', 'TF.js / webgrad'], rows), '');
  }

  if (c.conv?.rows?.length) {
    const { rows, target } = c.conv;
    out.push(`### conv kernels (GPU time in a training step, timestamp queries; target: ${target}× TF.js)`, '');
    out.push(
      'From the per-kernel profiles below, matched to the conv layers by shape. webgrad\'s weight gradient is its two passes ' +
        '(partial sums with the bias gradient, then their reduction); TF.js\'s is `Conv2DBackpropFilter` (its bias gradient is a separate `Sum`). ' +
        'webgrad does not compute the first layer\'s input gradient (its input is the data); TF.js does, so that row has no ratio.',
      '',
    );
    out.push(
      table(
        ['layer', 'shape (batch ' + c.batchSize + ')', 'computation', 'GFLOP', 'webgrad ms (kernel)', 'webgrad GFLOP/s', 'TF.js ms (kernel)', 'TF.js GFLOP/s', 'TF.js / webgrad', `≥ ${target}×`],
        rows.map((x) => [
          String(x.layer),
          x.shape,
          COMPUTATION[x.computation] ?? x.computation,
          num(x.gflop),
          `${num(x.webgradMs)}${x.webgradKernels.length ? ` \`${x.webgradKernels.join('+')}\`` : ''}`,
          num(x.webgradGflops),
          `${num(x.tfjsMs)}${x.tfjsKernels.length ? ` \`${x.tfjsKernels.join('+')}\`` : ''}`,
          num(x.tfjsGflops),
          ratio(x.ratio),
          x.meetsTarget === null ? '—' : x.meetsTarget ? 'yes' : '**no**',
        ]),
      ),
      '',
    );
  }

  if (c.kernels) {
    const { webgrad: w, tfjs: t } = c.kernels;
    out.push(`### GPU time per kernel in one training step (timestamp queries, median of ${w?.repeats ?? t?.repeats ?? '?'} repeats)`, '');
    if (w?.kernels && t?.kernels) out.push(`In all: webgrad ${num(w.totalMs)} ms over ${w.dispatches} dispatches, TF.js ${num(t.totalMs)} ms (TF.js / webgrad ${ratio(c.kernels.ratio)}).`, '');
    out.push(...kernelTimeLines(c.kernels));
  }
  return out.join('\n');
}
