/**
 * Formatting shared by the RESULTS.md writers (report.mjs, report_cnn.mjs, report_gpu.mjs): figures, ratios,
 * markdown tables, and the per-kernel GPU-time tables of a training step for webgrad and TF.js.
 */

export const num = (x, digits = 3) => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 }) : '—');
export const ratio = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${num(x, 3)}×` : '—');

/** A markdown table; a column is right-aligned when every cell in it is a figure (or a dash). */
export function table(header, rows) {
  const numeric = header.map((_, i) => i > 0 && rows.every((r) => /^[\d—]/.test(r[i])));
  return [`| ${header.join(' | ')} |`, `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Lines for `{ webgrad, tfjs }` kernel profiles: webgrad's dispatches in order, TF.js's kernels summed by name. */
export function kernelTimeLines({ webgrad: w, tfjs: t }) {
  const out = [];
  if (w?.kernels) {
    out.push(`webgrad: ${w.dispatches} dispatches, ${num(w.totalMs)} ms in all (each dispatch in its own pass).`, '');
    out.push(table(['#', 'dispatch', 'kernel', 'ms'], w.kernels.map((k, i) => [String(i), `\`${k.name}\``, k.kernel ? `\`${k.kernel}\`` : '—', num(k.ms)])), '');
  } else if (w?.skipped) out.push(`webgrad: skipped (${w.skipped}).`, '');
  if (t?.kernels) {
    const byName = new Map();
    for (const k of t.kernels) {
      const e = byName.get(k.name) ?? { count: 0, ms: 0 };
      e.count++;
      e.ms += Number.isFinite(k.ms) ? k.ms : 0;
      byName.set(k.name, e);
    }
    const timed = [...byName].filter(([, e]) => e.ms > 0);
    const untimed = [...byName].filter(([, e]) => !(e.ms > 0)).map(([name, e]) => `${name} ×${e.count}`);
    out.push(`TF.js (tf.profile): ${timed.reduce((n, [, e]) => n + e.count, 0)} timed kernels, ${num(t.totalMs)} ms in all.`, '');
    out.push(table(['kernel', 'count', 'ms'], timed.sort((a, b) => b[1].ms - a[1].ms).map(([name, e]) => [`\`${name}\``, String(e.count), num(e.ms)])), '');
    if (untimed.length) out.push(`No GPU time (views, CPU-side or op wrappers): ${untimed.join(', ')}.`, '');
  } else if (t?.skipped) out.push(`TF.js: skipped (${t.skipped}).`, '');
  return out;
}
