/**
 * Mixup's blend weight for one step: λ ~ Beta(α, α), folded to λ ≥ 1/2 so each row's own label
 * dominates. Drawn from a generator keyed by (seed, step) alone, so a resumed run draws the same λs
 * with no extra state in the checkpoint.
 */
import { Rng } from './rng';

/** Marsaglia & Tsang (2000) for shape ≥ 1; boosted by U^(1/shape) below 1. */
function gamma(shape: number, rng: Rng): number {
  if (shape < 1) return gamma(shape + 1, rng) * Math.pow(Math.max(rng.nextFloat(), 1e-12), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.nextFloat();
    if (Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export function mixupLambda(alpha: number, seed: number, step: number): number {
  if (!(alpha > 0)) return 1;
  const rng = new Rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0);
  const a = gamma(alpha, rng);
  const b = gamma(alpha, rng);
  const lambda = a + b > 0 ? a / (a + b) : 0.5;
  return Math.max(lambda, 1 - lambda);
}
