/**
 * A training report in the lessons' terms: from the epoch history, flag a loss that is not decreasing,
 * a plateau, overfitting (train loss falling while validation loss rises), and vanishing or exploding
 * gradients (per-parameter gradient norms). Each finding is one readable line.
 */
import type { EpochReport } from './trainer';

export interface DiagnoseOptions {
  /** Relative change below which the loss counts as flat (default 1%). */
  flat?: number;
  /** Gradient norms below this count as vanishing (default 1e-6), above as exploding (default 1e3). */
  vanishing?: number;
  exploding?: number;
}

export function diagnose(history: readonly EpochReport[], options: DiagnoseOptions = {}): string[] {
  const flat = options.flat ?? 0.01;
  const findings: string[] = [];
  if (history.length === 0) return findings;
  const first = history[0];
  const last = history[history.length - 1];

  if (history.length >= 2 && last.loss >= first.loss * (1 - flat)) {
    findings.push(`loss not decreasing: ${first.loss.toFixed(4)} in epoch 1, ${last.loss.toFixed(4)} in epoch ${last.epoch}. Try a different learning rate, check the data and labels, or the initialisation.`);
  } else if (history.length >= 3) {
    const [a, b, c] = history.slice(-3).map((r) => r.loss);
    if (Math.abs(a - c) <= a * flat && Math.abs(b - c) <= b * flat) {
      findings.push(`plateau: the training loss changed by less than ${flat * 100}% over the last 3 epochs. Try a learning-rate schedule or a larger model.`);
    }
  }

  const watched = history.filter((r) => r.valLoss !== undefined);
  if (watched.length >= 3) {
    const bestVal = watched.reduce((best, r) => (r.valLoss! < best.valLoss! ? r : best));
    const tail = watched.slice(watched.indexOf(bestVal));
    const trainFell = tail.length >= 3 && tail[tail.length - 1].loss < bestVal.loss;
    const valRose = tail.length >= 3 && tail[tail.length - 1].valLoss! > bestVal.valLoss! * (1 + flat);
    if (trainFell && valRose) {
      findings.push(
        `overfitting: validation loss was lowest in epoch ${bestVal.epoch} (${bestVal.valLoss!.toFixed(4)}) and rose to ${tail[tail.length - 1].valLoss!.toFixed(4)} while the training loss kept falling. Try dropout, weight decay, augmentation or early stopping.`,
      );
    }
  }

  const vanishing = options.vanishing ?? 1e-6;
  const exploding = options.exploding ?? 1e3;
  for (const [name, norm] of Object.entries(last.layerGradNorms)) {
    if (!name.endsWith('weight')) continue;
    if (norm < vanishing) findings.push(`vanishing gradients: ${name} has a mean gradient norm of ${norm.toExponential(2)}. Check the initialisation (He for ReLU, Xavier for tanh) or use normalisation.`);
    if (norm > exploding) findings.push(`exploding gradients: ${name} has a mean gradient norm of ${norm.toExponential(2)}. Lower the learning rate or clip the gradient norm.`);
  }
  return findings;
}

/** Per-parameter gradient norms of an epoch as an aligned table. */
export function gradientTable(report: EpochReport): string {
  const names = Object.keys(report.layerGradNorms);
  const width = Math.max(...names.map((n) => n.length));
  return names.map((n) => `${n.padEnd(width)}  ${report.layerGradNorms[n].toExponential(3)}`).join('\n');
}
