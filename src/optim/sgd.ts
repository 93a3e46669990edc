/**
 * SGD with momentum (and Nesterov), weight decay as L2 on the weights only, as one dispatch over the
 * whole parameter arena.
 */
import { ConfigError } from '../errors';
import { sgdHyperLayout } from '../kernels/catalog';
import { grid1d } from '../kernels/kernel';
import type { LoweredDispatch } from '../kernels/lower';
import type { ParameterArena } from '../nn/parameters';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export const OPTIM_HYPER = 'optim.hyper';
export const OPTIM_STATE = 'optim.velocity';

export function checkLearningRate(lr: number): void {
  if (!Number.isFinite(lr) || lr <= 0) throw new ConfigError(`The learning rate must be a positive finite number; got ${lr}.`);
}

export function sgdHyper(options: SgdOptions, lr = options.lr): ArrayBuffer {
  checkLearningRate(lr);
  const momentum = options.momentum ?? 0;
  if (!(momentum >= 0 && momentum < 1)) throw new ConfigError(`Momentum must be in [0, 1); got ${momentum}.`);
  const weightDecay = options.weightDecay ?? 0;
  if (!(weightDecay >= 0)) throw new ConfigError(`Weight decay must be ≥ 0; got ${weightDecay}.`);
  return sgdHyperLayout.pack({ lr, momentum, weight_decay: weightDecay, nesterov: options.nesterov ? 1 : 0 });
}

export function sgdDispatch(arena: ParameterArena): LoweredDispatch {
  const bytes = arena.totalFloats * 4;
  return {
    kernel: 'sgd',
    constants: {},
    operands: [
      { external: 'grads', bytes },
      { external: 'params', bytes },
      { external: OPTIM_STATE, bytes },
      { external: OPTIM_HYPER, bytes: sgdHyperLayout.byteSize },
    ],
    params: { count: arena.totalFloats, decay_count: arena.decayFloats },
    workgroups: grid1d(arena.totalFloats, 256),
  };
}
