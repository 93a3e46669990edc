/**
 * Learning-rate schedules. The trainer asks for the rate before each epoch (and before each step during
 * warm-up) and rewrites the optimizer's uniform only when it changes, so a schedule costs nothing per step.
 *   constant
 *   step:         lr·γ^⌊epoch/every⌋
 *   exponential:  lr·γ^epoch            (e.g. γ = 0.98 per epoch)
 *   cosine:       min + (lr − min)·(1 + cos(π·epoch/epochs))/2
 *   plateau:      lr·factor each time the watched validation metric fails to improve for `patience` epochs
 *   warm-up:      any of the above, scaled linearly from 0 over the first `warmupSteps` steps
 * Epochs count from 0 here.
 */
import { ConfigError } from '../errors';

export type Schedule =
  | { kind: 'constant' }
  | { kind: 'step'; every: number; gamma: number }
  | { kind: 'exponential'; gamma: number }
  | { kind: 'cosine'; epochs: number; minLr?: number }
  | { kind: 'plateau'; factor?: number; patience?: number; minDelta?: number };

export interface ScheduleOptions {
  schedule?: Schedule;
  warmupSteps?: number;
}

export class LrScheduler {
  private plateauScale = 1;
  private best = Infinity;
  private badEpochs = 0;

  constructor(
    readonly baseLr: number,
    readonly schedule: Schedule = { kind: 'constant' },
    readonly warmupSteps = 0,
  ) {
    const positive = (v: number | undefined, what: string) => {
      if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new ConfigError(`Schedule ${what} must be a positive number; got ${v}.`);
    };
    switch (schedule.kind) {
      case 'constant':
        break;
      case 'step':
        positive(schedule.every, 'step size (epochs)');
        positive(schedule.gamma, 'gamma');
        break;
      case 'exponential':
        positive(schedule.gamma, 'gamma');
        break;
      case 'cosine':
        positive(schedule.epochs, 'length (epochs)');
        if (schedule.minLr !== undefined && !(schedule.minLr >= 0 && Number.isFinite(schedule.minLr))) throw new ConfigError(`Schedule minimum rate must be a finite number ≥ 0; got ${schedule.minLr}.`);
        break;
      case 'plateau':
        positive(schedule.factor, 'factor');
        if (schedule.patience !== undefined && !(Number.isInteger(schedule.patience) && schedule.patience >= 0)) throw new ConfigError(`Schedule patience must be a whole number of epochs ≥ 0; got ${schedule.patience}.`);
        if (schedule.minDelta !== undefined && !(schedule.minDelta >= 0)) throw new ConfigError(`Schedule minDelta must be ≥ 0; got ${schedule.minDelta}.`);
        break;
      default:
        throw new ConfigError(`Unknown learning-rate schedule '${(schedule as { kind: string }).kind}'. Expected constant, step, exponential, cosine or plateau.`);
    }
    if (!(warmupSteps >= 0 && Number.isInteger(warmupSteps))) throw new ConfigError(`warmupSteps must be a non-negative integer; got ${warmupSteps}.`);
  }

  /** The rate for `epoch` (0-based) at global step `step`. */
  lr(epoch: number, step: number): number {
    const s = this.schedule;
    let lr = this.baseLr;
    if (s.kind === 'step') lr *= s.gamma ** Math.floor(epoch / s.every);
    else if (s.kind === 'exponential') lr *= s.gamma ** epoch;
    else if (s.kind === 'cosine') {
      const min = s.minLr ?? 0;
      lr = min + ((this.baseLr - min) * (1 + Math.cos((Math.PI * Math.min(epoch, s.epochs)) / s.epochs))) / 2;
    } else if (s.kind === 'plateau') lr *= this.plateauScale;
    if (step < this.warmupSteps) lr *= (step + 1) / this.warmupSteps;
    return Math.max(lr, 1e-12);
  }

  /** What reduce-on-plateau has learnt, for checkpoints. */
  state(): { scale: number; best: number; badEpochs: number } {
    return { scale: this.plateauScale, best: this.best, badEpochs: this.badEpochs };
  }

  setState(state: { scale?: number; best?: number | null; badEpochs?: number }): void {
    this.plateauScale = state.scale ?? 1;
    this.best = state.best ?? Infinity;
    this.badEpochs = state.badEpochs ?? 0;
  }

  /** Feeds the watched validation loss after an epoch (reduce-on-plateau only). */
  observe(validationLoss: number): void {
    const s = this.schedule;
    if (s.kind !== 'plateau') return;
    if (validationLoss < this.best - (s.minDelta ?? 1e-4)) {
      this.best = validationLoss;
      this.badEpochs = 0;
    } else if (++this.badEpochs > (s.patience ?? 5)) {
      this.plateauScale *= s.factor ?? 0.1;
      this.badEpochs = 0;
    }
  }
}

/** Parses `constant`, `step:EVERY:GAMMA`, `exp:GAMMA`, `cosine:EPOCHS[:MIN]`, `plateau[:FACTOR[:PATIENCE]]`. */
export function parseSchedule(text: string): Schedule {
  const [kind, ...args] = text.split(':');
  const arity: Record<string, number> = { constant: 0, step: 2, exp: 1, exponential: 1, cosine: 2, plateau: 2 };
  if (Object.hasOwn(arity, kind) && args.length > arity[kind]) {
    throw new ConfigError(`Schedule '${text}': ${kind} takes at most ${arity[kind]} number${arity[kind] === 1 ? '' : 's'}, got ${args.length}.`);
  }
  const nums = args.map((a) => {
    const v = Number(a);
    if (a.trim() === '' || !Number.isFinite(v)) throw new ConfigError(`Schedule '${text}': '${a}' is not a number.`);
    return v;
  });
  switch (kind) {
    case 'constant':
      return { kind: 'constant' };
    case 'step':
      return { kind: 'step', every: nums[0] ?? 1, gamma: nums[1] ?? 0.5 };
    case 'exp':
    case 'exponential':
      return { kind: 'exponential', gamma: nums[0] ?? 0.98 };
    case 'cosine':
      if (nums[0] === undefined) throw new ConfigError(`Schedule 'cosine' needs its length: cosine:EPOCHS[:MIN_LR].`);
      return { kind: 'cosine', epochs: nums[0], minLr: nums[1] };
    case 'plateau':
      return { kind: 'plateau', factor: nums[0], patience: nums[1] };
    default:
      throw new ConfigError(`Unknown learning-rate schedule '${text}'. Expected constant, step:EVERY:GAMMA, exp:GAMMA, cosine:EPOCHS[:MIN], plateau[:FACTOR[:PATIENCE]].`);
  }
}
