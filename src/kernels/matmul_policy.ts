/**
 * Which matmul variants the autotuner times for one product on one adapter. Every candidate it returns
 * is verified against the reference and timed; there is no pruning by family leaders.
 *
 *   - Only variants that `fit` the product (shape and transposes) and whose vec4 bindings are 16-byte
 *     aligned in the plan; the vec4k/vec4n fallbacks only where no all-vec4 kernel fits.
 *   - GPUs: every variant whose workgroup has at least 64 invocations (2×2 and 4×4 workgroups would leave
 *     most SIMD lanes of a GPU idle), the workgroup-tiled family included; its split-K members only for
 *     products with few output tiles (see `splitKFits`).
 *   - CPU implementations of WebGPU (SwiftShader, llvmpipe): the register-block families at every
 *     workgroup shape (one workgroup runs on one thread there, so small workgroups of big blocks are what
 *     spreads a product over the cores), but not the workgroup-tiled family: its barriers cost CPU Vulkan
 *     a thread synchronisation per K tile (measured 5–20× slower than the best block variant on SwiftShader),
 *     and compiling it costs about 1.5 s per constant set there. `adapterKind: 'gpu'` times it anyway.
 *   - The reference is always a candidate (and the answer when it is the only one).
 */
import { REFERENCE_MATMUL, flagsOf, matmulVariants, type MatmulShape, type MatmulVariant } from './matmul_variants';
import type { AdapterKind } from '../gpu/adapter_kind';
import type { Constants } from './kernel';

/** A GPU workgroup smaller than this leaves SIMD lanes idle (NVIDIA warps are 32 wide, AMD wavefronts 32 or 64). */
export const MIN_GPU_INVOCATIONS = 64;


/** Whether each of bindings A, B, E, C starts and ends on a 16-byte boundary (a vec4 binding must). */
export type BindingAlignment = readonly [boolean, boolean, boolean, boolean];

export const ALL_ALIGNED: BindingAlignment = [true, true, true, true];

/** The alignment of a product's bindings A, B, E, C from their byte offsets and sizes. */
export function alignmentOf(bindings: readonly { offset: number; size: number }[]): BindingAlignment {
  const aligned = (i: number) => bindings[i].offset % 16 === 0 && bindings[i].size % 16 === 0;
  return [aligned(0), aligned(1), aligned(2), aligned(3)];
}

export function alignedFor(variant: MatmulVariant, alignment: BindingAlignment): boolean {
  return variant.vec4Bindings.every((i) => alignment[i]);
}

/** 64×64 tiles of C below which a GPU has idle compute units, so splitting K pays. */
const FEW_TILES = 64;
/** Split-K never launches more workgroups than this, nor gives a split fewer than this many k. */
const SPLIT_MAX_WORKGROUPS = 256;
const SPLIT_MIN_K = 64;

/** Whether a split-K variant suits the product: few output tiles and enough K for every split. */
export function splitKFits(variant: MatmulVariant, { M, N, K }: MatmulShape): boolean {
  if (variant.splitK === 1) return true;
  const tiles = Math.ceil(M / 64) * Math.ceil(N / 64);
  return tiles < FEW_TILES && tiles * variant.splitK <= SPLIT_MAX_WORKGROUPS && K >= SPLIT_MIN_K * variant.splitK;
}

const invocations = (v: MatmulVariant) => v.workgroup[0] * v.workgroup[1];
const isFallback = (v: MatmulVariant) => v.family === 'vec4k' || v.family === 'vec4n';

/** The variants to verify and time for a product, in list order (the reference first). */
export function candidateVariants(
  shape: MatmulShape,
  constants: Constants,
  alignment: BindingAlignment,
  adapterKind: AdapterKind,
  variants: readonly MatmulVariant[] = matmulVariants,
): MatmulVariant[] {
  const flags = flagsOf(constants);
  const usable = variants.filter((v) => v.fits(shape, flags) && alignedFor(v, alignment) && splitKFits(v, shape));
  const allVec4 = usable.some((v) => v.family === 'blocks' || v.family === 'tiled');
  const suits = (v: MatmulVariant) => (adapterKind === 'cpu' ? v.family !== 'tiled' : invocations(v) >= MIN_GPU_INVOCATIONS);
  const list = usable.filter((v) => v.id === REFERENCE_MATMUL.id || (suits(v) && !(isFallback(v) && allVec4)));
  return list.some((v) => v.id === REFERENCE_MATMUL.id) ? list : [REFERENCE_MATMUL, ...list];
}
