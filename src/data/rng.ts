/**
 * Seeded PRNG: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/).
 *
 * Chosen over mulberry32 (32-bit state, 2^32 period: an epoch-shuffle stream over many runs can cycle)
 * and PCG32 (64-bit multiply needs BigInt or 16-bit limb arithmetic in JS). xoshiro128** has 128 bits
 * of state, period 2^128 - 1, passes BigCrush, and uses only 32-bit shifts, xors and `Math.imul`.
 * The 32-bit seed is expanded to the four state words with splitmix32 so that nearby seeds
 * (0, 1, 2, ...) give unrelated streams and the state is never all zero.
 */
import { ConfigError } from '../errors';

/** The complete generator state; plain numbers so it survives JSON checkpoints. */
export type RngState = readonly [number, number, number, number];

const TWO_POW_32 = 4294967296;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` is reduced to 32 bits (`seed >>> 0`). */
  constructor(seed: number) {
    const next = splitmix32(seed);
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution: ample for initialisation and shuffling. */
  nextFloat(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /**
   * Uniform integer in [0, bound), without the modulo bias of `nextU32() % bound`
   * (rejects the top partial block of 2^32, so at most half of the draws are retried).
   */
  nextBelow(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
      throw new ConfigError(`nextBelow: bound must be an integer in [1, 2^32], got ${bound}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % bound;
  }

  /**
   * Standard normal via Box–Muller. The second variate of each pair is discarded so that the
   * whole generator state stays the four words returned by `state()`.
   */
  normal(): number {
    const u1 = 1 - this.nextFloat(); // (0, 1]: keeps log() finite
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  state(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  setState(state: RngState): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32)) {
      throw new ConfigError(`setState: expected four u32 words, got [${state.join(', ')}]`);
    }
    if (state.every((w) => w === 0)) {
      throw new ConfigError('setState: the all-zero state is a fixed point of xoshiro128** and never changes');
    }
    [this.s0, this.s1, this.s2, this.s3] = state;
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates), drawn from `rng`. */
export function shuffledIndices(n: number, rng: Rng): Uint32Array<ArrayBuffer> {
  const indices = new Uint32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    const swap = indices[i]!;
    indices[i] = indices[j]!;
    indices[j] = swap;
  }
  return indices;
}
