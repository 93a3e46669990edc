/** Live loss and accuracy charts (Chart.js), x in epochs: step losses as they come, then per-epoch points. */
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import type { EpochReport } from '../../src/index';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

type Point = { x: number; y: number };
type Series = ChartDataset<'line', Point[]>;

const series = (label: string, color: string, extra: Partial<Series> = {}): Series => ({
  label,
  data: [],
  borderColor: color,
  backgroundColor: color,
  borderWidth: 2,
  pointRadius: 3,
  tension: 0,
  ...extra,
});

function lineChart(canvas: HTMLCanvasElement, title: string, datasets: Series[], y: { min?: number; max?: number }): Chart<'line', Point[]> {
  return new Chart<'line', Point[]>(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      layout: { padding: { right: 10 } },
      interaction: { mode: 'nearest', intersect: false },
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, font: { size: 10 } } },
        tooltip: { callbacks: { title: (items) => `epoch ${Number(items[0]?.parsed.x).toFixed(2)}` } },
      },
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: 'epoch', font: { size: 10 } }, ticks: { font: { size: 10 }, precision: 0 } },
        y: { type: 'linear', ...y, title: { display: true, text: title, font: { size: 10 } }, ticks: { font: { size: 10 } } },
      },
    },
  });
}

export class TrainingCharts {
  private readonly loss: Chart<'line', Point[]>;
  private readonly accuracy: Chart<'line', Point[]>;

  constructor(lossCanvas: HTMLCanvasElement, accuracyCanvas: HTMLCanvasElement) {
    this.loss = lineChart(
      lossCanvas,
      'loss',
      [
        series('train (steps)', 'rgba(76, 110, 245, 0.35)', { pointRadius: 0, borderWidth: 1 }),
        series('train', '#3b5bdb'),
        series('test', '#e8590c'),
      ],
      { min: 0 },
    );
    this.accuracy = lineChart(accuracyCanvas, 'accuracy', [series('train', '#3b5bdb'), series('test', '#e8590c')], { max: 1 });
  }

  reset(epochs: number): void {
    for (const chart of [this.loss, this.accuracy]) {
      chart.data.datasets.forEach((d) => (d.data = []));
      chart.options.scales!.x!.max = epochs;
      chart.update('none');
    }
  }

  addStep(x: number, loss: number): void {
    if (!Number.isFinite(loss)) return;
    this.loss.data.datasets[0].data.push({ x, y: loss });
    this.loss.update('none');
  }

  addEpoch(report: EpochReport): void {
    const x = report.epoch;
    this.loss.data.datasets[1].data.push({ x, y: report.loss });
    this.accuracy.data.datasets[0].data.push({ x, y: report.accuracy });
    if (report.testLoss !== undefined) this.loss.data.datasets[2].data.push({ x, y: report.testLoss });
    if (report.testAccuracy !== undefined) this.accuracy.data.datasets[1].data.push({ x, y: report.testAccuracy });
    this.loss.update('none');
    this.accuracy.update('none');
  }
}
