#!/usr/bin/env node
/**
 * Renders bench/RESULTS.md from the newest result file of each mode in bench/results/.
 * Run by bench/run.mjs after each benchmark; `node bench/report.mjs` regenerates it on its own.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuSection } from './report_gpu.mjs';
import { cnnSection, hasCnn } from './report_cnn.mjs';
import { kernelTimeLines, num, ratio, table } from './report_format.mjs';

/** RESULTS.md from this line on is hand-written and survives regeneration. */
const KEEP_MARKER = '<!-- hand-written below: kept by bench/report.mjs -->';

const MODE_ORDER = ['gpu', 'full', 'quick', 'node-full', 'node-quick'];
/** Modes that never make a section: smoke runs of the GPU benchmark on a CPU adapter or at tiny sizes. */
const UNREPORTED = new Set(['gpu-smoke']);



/** The previous commit's figure from the same run (`--baseline`), and how this commit compares. */
function baselineLine(base, what, baseValue, value, unit = '', mineRuns = [], theirRuns = base.runs ?? []) {
  const verdict = baseValue >= value ? 'this commit is not slower' : 'this commit is slower';
  const u = unit ? ` ${unit}` : '';
  const runs = theirRuns.length ? ` Medians of ${theirRuns.length} alternating runs each: this commit ${mineRuns.map((x) => num(x)).join(', ')}${u}; baseline ${theirRuns.map((x) => num(x)).join(', ')}${u}.` : '';
  return `Baseline (commit \`${base.commit}\`, same page): ${what} ${num(baseValue)}${u} against ${num(value)}${u} for this commit, ${ratio(baseValue / value)} (${verdict}).${runs}`;
}

function section(r, file) {
  const env = r.environment ?? {};
  const libs = r.libraries ?? {};
  const out = [];
  out.push(`## ${r.mode} — ${r.date?.slice(0, 16).replace('T', ' ')} UTC${r.only ? ` (partial run: ${r.only.join(', ')})` : ''}`, '');
  out.push(`- Source: \`bench/results/${file}\`${r.seconds ? ` (whole run ${r.seconds} s)` : ''}`);
  if (r.note) out.push(`- **Note:** ${r.note}`);
  if (r.webgrad?.commit) {
    const dirty = r.webgrad.uncommittedEngineFiles ? ` plus ${r.webgrad.uncommittedEngineFiles} uncommitted file(s) in src/ and shaders/` : '';
    out.push(`- webgrad: commit ${r.webgrad.commit}${dirty}`);
  }
  if (r.webgrad?.autotuneChoices) {
    const choices = Object.entries(r.webgrad.autotuneChoices);
    // Keys are "MxNxK|TRANS_A=0,...|align=1111" (older runs: "v1|<adapter>|MxNxK|TRANS_A=0,..."): the adapter
    // is printed below, and only the flags that are set matter.
    const short = (key) => {
      const parts = key.split('|');
      const [shape, flags] = /^v\d+$/.test(parts[0]) ? parts.slice(2) : parts;
      const set = (flags ?? '').split(',').filter((f) => !f.endsWith('=0')).join(',');
      return `${shape}${set ? ` ${set}` : ''}`;
    };
    out.push(`- webgrad autotuner choices (${choices.length}): ${choices.map(([k, v]) => `${short(k)} → \`${v}\``).join('; ') || 'none'}`);
  }
  out.push(env.host === 'chromium' ? `- Chromium: ${env.browser} (${env.userAgent})` : `- Node ${env.node}, Dawn from the \`webgpu\` package${env.vkIcd ? `, VK_ICD_FILENAMES=${env.vkIcd}` : ''}; Dawn's device ticks: ${env.dawnTicks ?? 'setImmediate loop'}`);
  const jaxAdapter = libs.jaxjsAdapter ? `; jax-js sees **${libs.jaxjsAdapter}**` : libs.jaxjsSkipped ? `; jax-js skipped (${libs.jaxjsSkipped})` : '';
  out.push(`- Adapter: webgrad sees **${libs.webgradAdapter ?? '?'}**${libs.webgradTimestamps ? ' (timestamp-query)' : ''}; TF.js sees **${libs.tfjsAdapter ?? '?'}**${jaxAdapter}`);
  if (libs.jaxjsVersion) out.push(`- jax-js ${libs.jaxjsVersion} (\`@jax-js/jax\`), device \`${libs.jaxjsDevice}\``);
  out.push(`- TF.js ${libs.tfjsVersion ?? '?'}, backend \`${libs.tfjsBackend ?? '?'}\`, prod mode, default flags ${libs.tfjsFlags ? `(${Object.entries(libs.tfjsFlags).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`);
  const load = env.loadAverageAtStart ? `; load average at start ${env.loadAverageAtStart.join(' / ')}${env.loadAverageAtEnd ? `, at end ${env.loadAverageAtEnd.join(' / ')}` : ''} (SwiftShader shares these CPUs)` : '';
  out.push(`- Host CPU: ${env.cpus} × ${env.cpuModel ?? '?'} (${env.platform ?? '?'})${load}`, '');

  if (r.matmul?.length) {
    const tuned = r.matmul.some((m) => m.tuned);
    out.push('### a. matmul (GFLOP/s, higher is better; median of runs)', '');
    out.push(
      table(
        tuned
          ? ['case', 'M × N × K', 'op', 'reps/run', 'webgrad reference', 'webgrad tuned (variant)', 'TF.js', 'tuned / TF.js', 'reference / TF.js']
          : ['case', 'M × N × K', 'op', 'reps/run', 'webgrad GFLOP/s', 'TF.js GFLOP/s', 'webgrad / TF.js'],
        r.matmul.map((m) => [
          m.name,
          `${m.M} × ${m.N} × ${m.K}`,
          `${m.transA ? 'Aᵀ' : 'A'}·${m.transB ? 'Bᵀ' : 'B'}`,
          String(m.reps),
          `${num(m.webgrad.gflops)} (${num(m.webgrad.msPerMatmul)} ms)`,
          ...(tuned ? [m.tuned ? `${num(m.tuned.gflops)} (${num(m.tuned.msPerMatmul)} ms) \`${m.tuned.kernel}\`` : '—'] : []),
          `${num(m.tfjs.gflops)} (${num(m.tfjs.msPerMatmul)} ms)`,
          ...(tuned ? [ratio(m.tunedRatio)] : []),
          ratio(m.ratio),
        ]),
      ),
      '',
    );
  }

  if (r.step) {
    const { webgrad: w, tfjs: t, jaxjs: j } = r.step;
    const jax = !!j && !j.skipped;
    out.push(`### b. one training step (batch ${w.batchSize}; ${w.steps} steps per timed run, median)`, '');
    out.push(
      table(
        ['', 'webgrad', 'TF.js', ...(jax ? ['jax-js'] : []), 'TF.js time / webgrad time', ...(jax ? ['jax-js time / webgrad time'] : [])],
        [
          ['ms per step', num(w.msPerStep), num(t.msPerStep), ...(jax ? [num(j.msPerStep)] : []), ratio(r.step.ratio), ...(jax ? [ratio(r.step.jaxjsRatio)] : [])],
          [
            'samples / s',
            num(w.samplesPerSecond),
            num(t.samplesPerSecond),
            ...(jax ? [num(j.samplesPerSecond)] : []),
            ratio(w.samplesPerSecond / t.samplesPerSecond),
            ...(jax ? [ratio(w.samplesPerSecond / j.samplesPerSecond)] : []),
          ],
        ],
      ),
      '',
    );
    if (j?.skipped) out.push(`jax-js: skipped (${j.skipped}).`, '');
    if (r.step.baseline) out.push(baselineLine(r.step.baseline, 'ms per step', r.step.baseline.msPerStep, w.msPerStep, 'ms', w.runs), '');
  }

  if (r.epoch) {
    const { webgrad: w, tfjs: t, jaxjs: j } = r.epoch;
    const jax = !!j && !j.skipped;
    // Columns: webgrad, TF.js, [jax-js], TF.js / webgrad, [jax-js / webgrad]; `speedup(peer, webgrad)` gives a ratio cell.
    const row = (label, pick, digits = 3, speedup = null) => [
      label,
      num(pick(w), digits),
      num(pick(t), digits),
      ...(jax ? [num(pick(j), digits)] : []),
      speedup ? ratio(speedup(t, w)) : '—',
      ...(jax ? [speedup ? ratio(speedup(j, w)) : '—'] : []),
    ];
    const slower = (a, b) => a / b;
    out.push(`### c. one epoch from fresh weights (${num(w.samples, 6)} samples, ${w.steps} steps), then the 10,000-image test set`, '');
    out.push(
      table(
        ['', 'webgrad', 'TF.js', ...(jax ? ['jax-js'] : []), 'TF.js / webgrad', ...(jax ? ['jax-js / webgrad'] : [])],
        [
          row('epoch time (s)', (x) => x.epochSeconds, 3, (x, y) => slower(x.epochSeconds, y.epochSeconds)),
          row('samples / s', (x) => x.samplesPerSecond, 3, (x, y) => slower(y.samplesPerSecond, x.samplesPerSecond)),
          row('test accuracy', (x) => x.testAccuracy, 4),
          row('train loss (epoch mean)', (x) => x.trainLoss, 4),
          row('test evaluation (s)', (x) => x.evalSeconds, 3, (x, y) => slower(x.evalSeconds, y.evalSeconds)),
          row('setup, not in epoch time (s)', (x) => x.setupSeconds),
        ],
      ),
      '',
    );
    if (j?.skipped) out.push(`jax-js: skipped (${j.skipped}).`, '');
    if (r.epoch.baseline) out.push(baselineLine(r.epoch.baseline, 'epoch', r.epoch.baseline.epochSeconds, w.epochSeconds, 's', w.runs), '');
  }

  if (r.kernels) {
    out.push('### d. GPU time per kernel in one training step (timestamp queries, median of repeats)', '');
    out.push(...kernelTimeLines(r.kernels));
  }
  return out.join('\n');
}

const HEADER = `# Benchmarks: webgrad vs TF.js (WebGPU backend) and jax-js (WebGPU device)

Generated by \`bench/run.mjs\` (\`npm run bench\`, \`npm run bench -- --quick\`; the \`gpu\` section by
\`npm run bench -- --gpu\`, bench/gpu.mjs, on a real GPU); the raw figures, every timed run included, are in
\`bench/results/*.json\`. All libraries run in the same page on the same adapter
(each with its own GPUDevice), one after the other.

How things are measured:

- **matmul**: webgrad's kernels dispatched directly: the reference \`matmul\` (what lowering emits: 8×8
  invocations of 4×4 blocks, a 32×32 tile per workgroup) and the variant the engine's autotuner chooses for
  the shape on this adapter (\`tuneMatmuls\` then \`selectMatmul\`, what a training plan runs; its tuning is not timed); TF.js's
  \`tf.matMul\` with the transpose flags. A run is N repetitions submitted back to back after a warm-up; the clock stops when the GPU is done (webgrad: \`queue.onSubmittedWorkDone()\`; TF.js: a 4-byte
  read of a 1×1 slice of the last product). The full product is read back and spot-checked only after timing.
- **training step**: MLP 784-128-64-10 (ReLU), softmax cross-entropy, SGD lr 0.1 without momentum, batch 128.
  webgrad: \`Trainer.fit\` over K batches (one command buffer per step; ends with its small metrics readback).
  TF.js: \`optimizer.minimize\` on pre-uploaded GPU batches (no \`model.fit\`), ending with a read of the last loss.
  jax-js (\`@jax-js/jax\`, its WebGPU device), as its own MNIST demo trains: a \`jit\`-compiled step of
  \`valueAndGrad\` and the SGD update on pre-uploaded GPU batches, the new parameters awaited
  (\`blockUntilReady\`) after each step; same model, He-normal init, lr and sample order as TF.js.
- **epoch**: fresh weights, one pass over the samples (the last batch partial), no evaluation inside the
  timed region; then accuracy on the full test set. Pipeline compilation is excluded for all (webgrad compiles in
  \`Trainer.create\`; TF.js and jax-js are warmed up on throw-away parameters of the same shapes).
- **per-kernel**: webgrad's \`Trainer.profileStep\` runs a step with each dispatch in its own pass with
  \`timestampWrites\` (median per dispatch); TF.js uses its own \`tf.profile\`, which does the same. Pass splitting costs a little, so the sums exceed the step's real time.
- Ratios: for throughput, webgrad / peer; for times, peer time / webgrad time. Above 1 means webgrad is faster.
`;

/** Writes RESULTS.md from the newest file of each mode; returns its path. */
export function writeResultsMarkdown(resultsDir, target) {
  const newest = new Map();
  // Per mode, the newest partial (--only) run without a CNN section, shown beside the complete run when newer.
  const newestPartial = new Map();
  // The CNN sections: per mode, the newest file with a CNN run (complete or --only=cnn).
  const newestCnn = new Map();
  for (const file of readdirSync(resultsDir).filter((f) => f.endsWith('.json')).sort()) {
    try {
      const r = JSON.parse(readFileSync(path.join(resultsDir, file), 'utf8'));
      if (!r.mode || UNREPORTED.has(r.mode)) continue;
      // Per mode: the newest complete run; a partial (--only) run only when there is no complete one.
      const prev = newest.get(r.mode);
      const better = !prev || (!r.only && prev.r.only) || (!r.only === !prev.r.only && prev.r.date < r.date);
      if (better) newest.set(r.mode, { r, file });
      if (r.only && !hasCnn(r) && !(newestPartial.get(r.mode)?.r.date > r.date)) newestPartial.set(r.mode, { r, file });
      if (r.mode !== 'gpu' && hasCnn(r) && !(newestCnn.get(r.mode)?.r.date > r.date)) newestCnn.set(r.mode, { r, file });
    } catch {
      // not a result file
    }
  }
  const rank = (mode) => (MODE_ORDER.includes(mode) ? MODE_ORDER.indexOf(mode) : MODE_ORDER.length);
  const modes = [...newest.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const sections = modes.flatMap((m) => {
    const main = newest.get(m);
    const partial = newestPartial.get(m);
    const later = partial && partial.r !== main.r && partial.r.date > main.r.date ? [section(partial.r, partial.file)] : [];
    return [...later, (m === 'gpu' ? gpuSection : section)(main.r, main.file)];
  });
  const cnnModes = [...newestCnn.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const m of cnnModes) sections.push(cnnSection(newestCnn.get(m).r, newestCnn.get(m).file));
  const body = sections.join('\n');
  // Everything from KEEP_MARKER on is written by hand (figures from other tools) and kept as it is.
  let kept = '';
  try {
    const previous = readFileSync(target, 'utf8');
    const at = previous.indexOf(KEEP_MARKER);
    if (at >= 0) kept = `\n${previous.slice(at)}`;
  } catch {
    // no previous file
  }
  writeFileSync(target, `${HEADER}\n${body || '_No results yet: run `npm run bench -- --quick`._\n'}${kept}`);
  return target;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const benchDir = path.dirname(fileURLToPath(import.meta.url));
  console.log(`wrote ${writeResultsMarkdown(path.join(benchDir, 'results'), path.join(benchDir, 'RESULTS.md'))}`);
}
