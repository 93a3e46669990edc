/**
 * The matmul variants the autotuner chooses from. Every variant is a catalog kernel with the bindings, the
 * Params and the override constants of `matmul` (A, B, E, C, Params; TRANS_A, TRANS_B, BIAS, ACT, ACT_GRAD,
 * WG_X, WG_Y), so swapping one for another changes a dispatch's kernel, constants and workgroup count and
 * nothing else: not the plan's buffers, bindings or uniforms.
 *
 * A variant only runs the shapes and flags it `fits`: the vec4 ones need the vec4 dimension to be a
 * multiple of 4 (and their vec4 bindings to start and end on 16-byte boundaries, which the tuner checks
 * against the plan). The reference, `matmul` with 8×8 workgroups, fits everything and is what lowering emits.
 */
import type { KernelName } from './catalog';
import type { Constants } from './kernel';

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
}

export interface MatmulFlags {
  transA: boolean;
  transB: boolean;
}

export interface MatmulVariant {
  /** Stable and unique: what the tuning cache stores. */
  id: string;
  kernel: KernelName;
  /**
   * Variants of one family share a kernel and differ in workgroup size or extras. The tuner first times
   * each family's first variant, then the other members of the fastest family only, which keeps the number
   * of pipelines it compiles small.
   */
  family: string;
  /** Rows × columns of C one invocation computes. */
  block: readonly [number, number];
  /** Workgroup size (WG_X, WG_Y). */
  workgroup: readonly [number, number];
  /** Override constants beyond the standard seven. */
  extra: Constants;
  /** Bindings (by index) the kernel declares as array<vec4f>. */
  vec4Bindings: readonly number[];
  /** Whether the kernel computes this product (shape and transposes) correctly. */
  fits(shape: MatmulShape, flags: MatmulFlags): boolean;
  /** A candidate only where the all-vec4 kernels do not fit (the tuner's policy; `fits` is the kernel's ability). */
  fallback?: boolean;
}

const any = (): boolean => true;
/** matmul_v4_*.wgsl: every operand as vec4; A along M (TRANS_A) or along K. */
const fitsV4 = ({ M, N, K }: MatmulShape, { transA, transB }: MatmulFlags) =>
  !(transA && transB) && N % 4 === 0 && (transA ? M % 4 === 0 : K % 4 === 0);
/** matmul_vec4k.wgsl: A·Bᵀ with A and B read along K and C written one element at a time (any N). */
const fitsVec4k = ({ K }: MatmulShape, { transA, transB }: MatmulFlags) => !transA && transB && K % 4 === 0;
/** matmul_vec4n.wgsl: B, C, E along N and A one element at a time (any M, K). */
const fitsVec4n = ({ N }: MatmulShape, { transB }: MatmulFlags) => !transB && N % 4 === 0;

function variant(
  kernel: KernelName,
  block: [number, number],
  workgroup: [number, number],
  fits: MatmulVariant['fits'],
  vec4Bindings: number[],
  extra: Constants = {},
): MatmulVariant {
  const suffix = Object.entries(extra)
    .filter(([, v]) => v !== false)
    .map(([k, v]) => (v === true ? `+${k}` : `+${k}=${v}`))
    .join('');
  const fallback = kernel === 'matmulVec4k' || kernel === 'matmulVec4n';
  return { id: `${kernel}${suffix}@${workgroup[0]}x${workgroup[1]}`, kernel, family: kernel, block, workgroup, extra, vec4Bindings, fits, fallback };
}

/** The reference variant: what lowering emits and what every other variant is verified against. */
export const REFERENCE_MATMUL = variant('matmul', [4, 4], [8, 8], any, []);

/** Each family's first member is its leader (see `family`). */
export const matmulVariants: readonly MatmulVariant[] = [
  REFERENCE_MATMUL,
  // vec4 loads along K (A·Bᵀ) or along N, for the shapes the all-vec4 kernels cannot take (N or K not a multiple of 4).
  variant('matmulVec4k', [4, 4], [8, 8], fitsVec4k, [0, 1]),
  variant('matmulVec4k', [4, 8], [8, 8], fitsVec4k, [0, 1], { WIDE: true }),
  variant('matmulVec4n', [4, 4], [8, 8], fitsVec4n, [1, 2, 3]),
  variant('matmulVec4n', [4, 8], [8, 8], fitsVec4n, [1, 2, 3], { WIDE: true }),
  // Everything as vec4; the larger the block, the fewer loads per multiply-add (what CPU Vulkan needs),
  // the smaller, the more invocations (what GPUs need).
  variant('matmulV4x4', [4, 4], [8, 8], fitsV4, [0, 1, 2, 3]),
  variant('matmulV8x8', [8, 8], [4, 4], fitsV4, [0, 1, 2, 3]),
  variant('matmulV8x8', [8, 8], [8, 8], fitsV4, [0, 1, 2, 3]),
  variant('matmulV8x16', [8, 16], [2, 2], fitsV4, [0, 1, 2, 3]),
  variant('matmulV8x16', [8, 16], [4, 4], fitsV4, [0, 1, 2, 3]),
  variant('matmulV16x16', [16, 16], [4, 4], fitsV4, [0, 1, 2, 3]),
  variant('matmulV16x16', [16, 16], [2, 2], fitsV4, [0, 1, 2, 3]),
  // Workgroup-memory tiles (32×32 and 64×64 per workgroup): for GPUs; barriers are slow on CPU Vulkan.
  variant('matmulTiled', [4, 4], [8, 8], any, []),
  variant('matmulTiled', [4, 4], [16, 16], any, []),
];

export const matmulKernelNames: ReadonlySet<KernelName> = new Set(matmulVariants.map((v) => v.kernel));

/** The tuner's candidates for a product: the variants that fit it, fallbacks only where no all-vec4 kernel does. */
export function candidateVariants(shape: MatmulShape, flags: MatmulFlags, variants: readonly MatmulVariant[] = matmulVariants): MatmulVariant[] {
  const v4 = fitsV4(shape, flags);
  return variants.filter((v) => v.fits(shape, flags) && !(v.fallback && v4));
}

export function variantById(id: string): MatmulVariant | undefined {
  return matmulVariants.find((v) => v.id === id);
}

/** The seven standard constants with this variant's workgroup size and extras. */
export function variantConstants(variant: MatmulVariant, base: Constants): Constants {
  return { ...base, WG_X: variant.workgroup[0], WG_Y: variant.workgroup[1], ...variant.extra };
}

export function variantWorkgroups(variant: MatmulVariant, { M, N }: MatmulShape): [number, number, number] {
  const [rows, cols] = variant.block;
  const [wx, wy] = variant.workgroup;
  return [Math.max(1, Math.ceil(N / (cols * wx))), Math.max(1, Math.ceil(M / (rows * wy))), 1];
}
