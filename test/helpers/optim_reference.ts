/** Float64 references of every optimizer, global-norm clipping and weight decay, one step at a time. */
import { ParameterArena } from '../../src/nn/parameters';
import { GPU_GRAD_NORM } from '../../src/optim/optimizer';

export interface RefOptimizer {
  name: 'sgd' | 'momentum' | 'nesterov' | 'adagrad' | 'rmsprop' | 'adam' | 'adamw';
  lr: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  rho?: number;
  eps?: number;
  weightDecay?: number;
  decay?: 'l2' | 'l1' | 'decoupled';
  clipNorm?: number;
  clipValue?: number;
}

/** One parameter tensor with its optimizer state. */
export interface RefParam {
  w: Float64Array;
  decays: boolean;
  s1: Float64Array;
  s2: Float64Array;
}

export const newParam = (w: ArrayLike<number>, decays: boolean): RefParam => ({ w: Float64Array.from(w), decays, s1: new Float64Array(w.length), s2: new Float64Array(w.length) });

export function globalNorm(grads: ArrayLike<number>[]): number {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  return Math.sqrt(sq);
}

/**
 * Applies step t (1-based) to every parameter, given their gradients. Hyperparameters are rounded to
 * f32 first, as the GPU holds them: 1 − β2 with β2 = 0.999 differs by 1.3e-5 between f32 and f64, which
 * Adam's bias correction would otherwise turn into a systematic gap.
 */
export function optimizerStep(params: RefParam[], grads: ArrayLike<number>[], optimizer: RefOptimizer, t: number): void {
  const f = Math.fround;
  const o: RefOptimizer = {
    ...optimizer,
    lr: f(optimizer.lr),
    momentum: optimizer.momentum === undefined ? undefined : f(optimizer.momentum),
    beta1: f(optimizer.beta1 ?? 0.9),
    beta2: f(optimizer.beta2 ?? 0.999),
    rho: f(optimizer.rho ?? 0.9),
    weightDecay: f(optimizer.weightDecay ?? 0),
  };
  const norm = globalNorm(grads);
  const scale = o.clipNorm && norm > o.clipNorm ? o.clipNorm / norm : 1;
  const decay = o.decay ?? (o.name === 'adamw' ? 'decoupled' : 'l2');
  const wd = o.weightDecay ?? 0;
  const momentum = o.momentum ?? (o.name === 'momentum' || o.name === 'nesterov' ? 0.9 : 0);
  const [b1, b2] = [o.beta1 ?? 0.9, o.beta2 ?? 0.999];
  const eps = o.eps ?? (o.name === 'adagrad' || o.name === 'rmsprop' ? 1e-10 : 1e-8);
  params.forEach((p, k) => {
    for (let i = 0; i < p.w.length; i++) {
      let g = grads[k][i] * scale;
      if (o.clipValue) g = Math.min(Math.max(g, -o.clipValue), o.clipValue);
      const w0 = p.w[i];
      if (p.decays && wd && decay === 'l2') g += wd * w0;
      if (p.decays && wd && decay === 'l1') g += wd * Math.sign(w0);
      let w = w0;
      switch (o.name) {
        case 'adagrad':
          p.s1[i] += g * g;
          w -= (o.lr * g) / (Math.sqrt(p.s1[i]) + eps);
          break;
        case 'rmsprop': {
          const rho = o.rho ?? 0.9;
          p.s1[i] = rho * p.s1[i] + (1 - rho) * g * g;
          w -= (o.lr * g) / (Math.sqrt(p.s1[i]) + eps);
          break;
        }
        case 'adam':
        case 'adamw':
          p.s1[i] = b1 * p.s1[i] + (1 - b1) * g;
          p.s2[i] = b2 * p.s2[i] + (1 - b2) * g * g;
          w -= (o.lr * (p.s1[i] / (1 - b1 ** t))) / (Math.sqrt(p.s2[i] / (1 - b2 ** t)) + eps);
          break;
        default: {
          p.s1[i] = momentum * p.s1[i] + g;
          w -= o.lr * (o.name === 'nesterov' ? g + momentum * p.s1[i] : p.s1[i]);
        }
      }
      if (p.decays && wd && decay === 'decoupled') w -= o.lr * wd * w0;
      p.w[i] = w;
    }
  });
}

/** An arena of one slot over `floats` floats: the optimizer kernel's slot table when a test runs it on a flat array. */
export const oneSlot = (floats: number) => new ParameterArena([{ name: 'all', shape: [floats], decay: true }]);

/**
 * What grad_norm.wgsl writes for `grads` laid out in `arena`: each slot's chunks of `chunkVec4` vec4s, in
 * slot order, their squared sums (in float64, then rounded), as the optimizer kernel reads them.
 */
export function chunkPartials(grads: ArrayLike<number>, arena: ParameterArena, chunkVec4 = GPU_GRAD_NORM.chunkVec4): Float32Array {
  const out: number[] = [];
  const chunk = 4 * chunkVec4;
  for (const slot of arena.slots) {
    const chunks = Math.max(1, Math.ceil(Math.ceil(slot.size / 4) / chunkVec4));
    for (let c = 0; c < chunks; c++) {
      let s = 0;
      for (let i = slot.offset + c * chunk; i < Math.min(slot.offset + slot.size, slot.offset + (c + 1) * chunk); i++) s += grads[i] * grads[i];
      out.push(s);
    }
  }
  return Float32Array.from(out);
}
