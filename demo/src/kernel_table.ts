/** The GPU panel's table of per-dispatch times of one training step (Trainer.profileStep). */
import type { KernelTiming } from '../../src/index';

/** Creates an element with a class and text. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

/** Fills `box` with one row per dispatch (label, a bar scaled to the slowest, milliseconds) and the step's total. */
export function showKernelTimes(box: HTMLElement, timings: KernelTiming[]): void {
  const total = timings.reduce((s, t) => s + t.milliseconds, 0);
  const max = Math.max(...timings.map((t) => t.milliseconds), 1e-9);
  const body = el('tbody');
  for (const t of timings) {
    const row = el('tr');
    const name = el('td', 'name', t.label);
    name.title = `kernel ${t.kernel}`;
    const barCell = el('td', 'barcell');
    const bar = el('div', 'kbar');
    bar.style.width = `${((100 * t.milliseconds) / max).toFixed(1)}%`;
    barCell.append(bar);
    row.append(name, barCell, el('td', 'ms', `${t.milliseconds.toFixed(3)} ms`));
    body.append(row);
  }
  const foot = el('tfoot');
  const sum = el('tr');
  sum.append(el('td', '', 'one training step'), el('td'), el('td', 'ms', `${total.toFixed(3)} ms`));
  foot.append(sum);
  const table = el('table');
  table.append(body, foot);
  box.replaceChildren(table);
  box.dataset.count = String(timings.length);
}
