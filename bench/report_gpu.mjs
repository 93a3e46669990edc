/**
 * The RESULTS.md section of a GPU benchmark run (bench/gpu.mjs): webgrad on the card's own driver against
 * its FP32 peak and against PyTorch on the same card. Used by bench/report.mjs for 'gpu' result files and
 * by bench/gpu.mjs for the section it prints and writes.
 */
import { num, table } from './report_format.mjs';

const pct = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${num(100 * x, 3)}%` : '—');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${num(a / b, 3)}×` : '—');

export function gpuSection(r, file) {
  const env = r.environment ?? {};
  const torch = r.torch && !r.torch.skipped ? r.torch : null;
  const out = [];
  out.push(`## ${r.mode} — ${r.date?.slice(0, 16).replace('T', ' ')} UTC: ${env.adapter ?? '?'}`, '');
  out.push(`- Source: \`bench/results/${file}\`${r.seconds ? ` (whole run ${r.seconds} s)` : ''}; webgrad commit ${r.webgrad?.commit ?? '?'}`);
  if (r.note) out.push(`- **Note:** ${r.note}`);
  out.push(`- Node ${env.node}, Dawn from the \`webgpu\` package, ${env.vkIcd ? `VK_ICD_FILENAMES=${env.vkIcd}` : "Vulkan's default driver search"}; Dawn's device ticks: ${env.dawnTicks}`);
  out.push(`- FP32 peak: ${env.fp32Peak ? `${env.fp32Peak.tflops} TFLOP/s (${env.fp32Peak.name}, datasheet, no tensor cores)` : 'unknown for this adapter (not in bench/gpu_peaks.mjs)'}`);
  out.push(`- PyTorch: ${torch ? `${torch.torch} on ${torch.device}${torch.cuda ? ` (CUDA ${torch.cuda})` : ''}` : `skipped (${r.torch?.skipped ?? 'not run'})`}`);
  for (const key of ['matmulError', 'mlpError', 'cnnError']) if (r[key]) out.push(`- **${key.replace('Error', '')} section failed:** ${r[key]}`);
  out.push(`- Host: ${env.cpus} × ${env.cpuModel ?? '?'} (${env.platform ?? '?'})${env.cpuAdapter ? '; **the adapter is a CPU: a smoke run, not a GPU measurement**' : ''}`, '');

  if (r.matmul?.length) {
    out.push('### a. matmul (GFLOP/s; median of runs, readback excluded)', '');
    const torchRows = new Map((torch?.matmul ?? []).map((m) => [m.name, m]));
    out.push(
      table(
        ['case', 'M × N × K', 'op', 'webgrad reference', 'webgrad tuned (variant)', 'of FP32 peak', ...(torch ? ['PyTorch FP32', 'webgrad / PyTorch'] : [])],
        r.matmul.map((m) => {
          const t = torchRows.get(m.name);
          return [
            m.name,
            `${m.M} × ${m.N} × ${m.K}`,
            `${m.transA ? 'Aᵀ' : 'A'}·${m.transB ? 'Bᵀ' : 'B'}`,
            num(m.reference?.gflops),
            `${num(m.tuned?.gflops)} \`${m.tuned?.kernel ?? '?'}\``,
            pct(m.tunedOfPeak),
            ...(torch ? [`${num(t?.fp32?.gflops)}${t?.tf32 ? ` (TF32: ${num(t.tf32.gflops)})` : ''}`, ratio(m.tuned?.gflops, t?.fp32?.gflops)] : []),
          ];
        }),
      ),
      '',
    );
  }

  const models = [
    ['MLP 784-128-64-10', r.mlp?.epoch, torch?.mlp, r.mlp?.hostCalls?.perStep],
    ['CNN (2 conv + linear)', r.cnn && !r.cnn.skipped ? r.cnn : null, torch?.cnn, r.cnn?.hostCalls?.perStep],
  ];
  out.push('### b. training epochs (batch 128, SGD lr 0.1, fresh weights, compilation excluded)', '');
  out.push(
    table(
      ['model', 'samples', 'webgrad epoch (s)', 'webgrad steps/s', 'test acc.', ...(torch ? ['PyTorch epoch (s)', 'PyTorch steps/s', 'PyTorch test acc.', 'PyTorch time / webgrad time'] : [])],
      models
        .filter(([, w, t]) => w || t)
        .map(([name, w, t]) => [
          name,
          num((w ?? t).samples, 6),
          num(w?.epochSeconds),
          num(w?.stepsPerSecond),
          num(w?.testAccuracy, 4),
          ...(torch ? [num(t?.epochSeconds), num(t?.stepsPerSecond), num(t?.testAccuracy, 4), ratio(t?.epochSeconds, w?.epochSeconds)] : []),
        ]),
    ),
    '',
  );
  if (r.mlp?.step) out.push(`MLP step alone: ${num(r.mlp.step.msPerStep)} ms (${r.mlp.step.steps} steps per timed run, median of ${r.mlp.step.runsMs?.length}).`, '');
  if (r.cnn?.skipped) out.push(`CNN: skipped (${r.cnn.skipped}).`, '');
  if (r.cnn?.cut) out.push(`CNN epoch shortened: ${r.cnn.cut}.`, '');

  const calls = models.filter(([, , , c]) => c);
  if (calls.length) {
    out.push('### c. what one training step asks of the host (counted over an epoch after a warm-up)', '');
    out.push(
      table(
        ['model', 'dispatches', 'submits', 'command buffers', 'writeBuffer', 'mapAsync'],
        calls.map(([name, , , c]) => [name, num(c.dispatches), num(c.submits), num(c.commandBuffers), num(c.writeBuffers), num(c.mapAsyncs)]),
      ),
      '',
    );
  }
  return out.join('\n');
}
