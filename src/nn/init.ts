/**
 * Weight initialisers, seeded and reproducible. fanIn/fanOut follow the [out, in] layout of dense weights.
 *   he (Kaiming):  Var = 2/fanIn          (ReLU family; He et al. 2015)
 *   xavier (Glorot): Var = 2/(fanIn+fanOut) (tanh/sigmoid; Glorot & Bengio 2010)
 *   lecun:         Var = 1/fanIn          (SELU)
 * Normal variants draw N(0, Var); uniform variants draw U(-a, a) with a = sqrt(3·Var), the same variance.
 */
import { ConfigError } from '../errors';
import { Rng } from '../data/rng';

export const initNames = [
  'zeros',
  'constant',
  'normal',
  'xavier_normal',
  'xavier_uniform',
  'he_normal',
  'he_uniform',
  'lecun_normal',
  'lecun_uniform',
  'orthogonal',
] as const;
export type InitName = (typeof initNames)[number];

/** Short aliases accepted in model strings and flags. */
const aliases: Record<string, InitName> = { he: 'he_normal', kaiming: 'he_normal', xavier: 'xavier_normal', glorot: 'xavier_normal', lecun: 'lecun_normal' };

/** Every name `resolveInit` accepts: the initialisers and their aliases. */
export const initChoices: readonly string[] = [...initNames, ...Object.keys(aliases)];

export function resolveInit(name: string): InitName {
  const resolved = Object.hasOwn(aliases, name) ? aliases[name] : name;
  if (!(initNames as readonly string[]).includes(resolved)) {
    throw new ConfigError(`Unknown initialiser '${name}'. Expected one of: ${[...initNames, ...Object.keys(aliases)].join(', ')}.`);
  }
  return resolved as InitName;
}

export interface InitOptions {
  /** Standard deviation for 'normal' (default 0.01), value for 'constant' (default 0). */
  scale?: number;
  /**
   * The fans, where they are not the matrix's shape: a conv weight [out, in, kh, kw] is drawn as a
   * [out, in·kh·kw] matrix with fan_in = in·kh·kw and fan_out = out·kh·kw, as PyTorch computes them.
   */
  fanIn?: number;
  fanOut?: number;
}

/** Fills a [rows, cols] weight ([out, in] for dense layers: fans default to cols and rows). */
export function initWeight(name: InitName, rows: number, cols: number, rng: Rng, options: InitOptions = {}): Float32Array {
  const out = new Float32Array(rows * cols);
  const fanIn = options.fanIn ?? cols;
  const fanOut = options.fanOut ?? rows;
  const normal = (std: number) => out.forEach((_, i) => (out[i] = rng.normal() * std));
  const uniform = (std: number) => {
    const a = Math.sqrt(3) * std;
    out.forEach((_, i) => (out[i] = (rng.nextFloat() * 2 - 1) * a));
  };
  switch (name) {
    case 'zeros':
      break;
    case 'constant':
      out.fill(options.scale ?? 0);
      break;
    case 'normal':
      normal(options.scale ?? 0.01);
      break;
    case 'xavier_normal':
      normal(Math.sqrt(2 / (fanIn + fanOut)));
      break;
    case 'xavier_uniform':
      uniform(Math.sqrt(2 / (fanIn + fanOut)));
      break;
    case 'he_normal':
      normal(Math.sqrt(2 / fanIn));
      break;
    case 'he_uniform':
      uniform(Math.sqrt(2 / fanIn));
      break;
    case 'lecun_normal':
      normal(Math.sqrt(1 / fanIn));
      break;
    case 'lecun_uniform':
      uniform(Math.sqrt(1 / fanIn));
      break;
    case 'orthogonal':
      orthogonal(out, rows, cols, rng, options.scale ?? 1);
      break;
  }
  return out;
}

/** Initialisers that give every unit the same weights, so gradients can never tell them apart. */
export function breaksSymmetry(name: InitName): boolean {
  return name !== 'zeros' && name !== 'constant';
}

/**
 * Saxe et al. 2014: rows (or columns, whichever are fewer) orthonormal. Gram–Schmidt in float64 on a
 * Gaussian matrix, with sign correction so the result is uniformly distributed.
 */
function orthogonal(out: Float32Array, rows: number, cols: number, rng: Rng, gain: number): void {
  const transpose = rows < cols;
  const [n, m] = transpose ? [cols, rows] : [rows, cols]; // n ≥ m: orthonormalise m columns of length n
  const q = Array.from({ length: m }, () => Float64Array.from({ length: n }, () => rng.normal()));
  for (let j = 0; j < m; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[j][i] * q[p][i];
      for (let i = 0; i < n; i++) q[j][i] -= dot * q[p][i];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[j][i] * q[j][i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) q[j][i] /= norm;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (transpose ? q[r][c] : q[c][r]);
  }
}
