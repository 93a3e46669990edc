/**
 * The matmul family in one list. Each entry of `matmulVariantSpecs` is one variant; from that list the
 * catalog derives its kernel records (src/kernels/catalog.ts), scripts/gen_matmul_blocks.mjs the
 * register-block kernels it writes into shaders/matmul_blocks.wgsl, and the autotuner its candidates
 * (src/kernels/matmul_policy.ts). Adding a block size or a workgroup shape is one line here (then run the
 * generator).
 *
 * Every kernel of the family has the bindings, Params and constants of shaders/matmul_common.wgsl (A, B,
 * E, C, Params, D; TRANS_A, TRANS_B, BIAS, ACT, ACT_GRAD, BIAS_GRAD, WG_X, WG_Y), so a variant changes a
 * product's kernel, constants and workgroup count, and nothing about its operands. A split-K variant runs in two
 * steps with a scratch buffer between them (see `variantSteps`).
 *
 * A variant only runs the shapes and flags it `fits`: the vec4 ones need the dimension they read as vec4
 * to be a multiple of 4, and their vec4 bindings to start and end on 16-byte boundaries (`vec4Bindings`).
 * The reference, `matmul` with 8×8 workgroups, fits everything and is what lowering emits.
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
  /** BIAS_GRAD: D = the column sums of the stored A (the bias gradient beside dW = dYᵀ·X). */
  biasGrad?: boolean;
}

/**
 * reference: shaders/matmul.wgsl. vec4k, vec4n: vec4 along K (A·Bᵀ) or along N, for shapes the all-vec4
 * kernels cannot take. blocks: every operand as vec4, an R×C block of C per invocation, no workgroup memory
 * (shaders/matmul_blocks.wgsl, generated). tiled: workgroup-memory tiles of 64×64 or 128×64, double
 * buffered, one barrier per K tile, optionally split along K (shaders/matmul_tiled.wgsl).
 */
export type MatmulFamily = 'reference' | 'vec4k' | 'vec4n' | 'blocks' | 'tiled';

export interface MatmulVariantSpec {
  family: MatmulFamily;
  /** Rows × columns of C one invocation computes (blocks only: each size is one generated entry point). */
  block?: readonly [number, number];
  workgroup: readonly [number, number];
  /** Override constants beyond the standard seven (WIDE; TILE_M, SPLIT_K). */
  extra?: Constants;
}

/**
 * The family, simplest first (ties go to the earlier entry). Workgroups of 64 or more invocations suit
 * GPUs; the 2×2 and 4×4 ones suit CPU Vulkan (SwiftShader runs a workgroup on one thread, so small
 * workgroups of big blocks spread a product over its cores) and the tuner times them only there.
 */
export const matmulVariantSpecs: readonly MatmulVariantSpec[] = [
  { family: 'reference', workgroup: [8, 8] },
  { family: 'vec4k', workgroup: [8, 8] },
  { family: 'vec4k', workgroup: [8, 8], extra: { WIDE: true } },
  { family: 'vec4n', workgroup: [8, 8] },
  { family: 'vec4n', workgroup: [8, 8], extra: { WIDE: true } },
  { family: 'blocks', block: [4, 4], workgroup: [8, 8] },
  { family: 'blocks', block: [8, 8], workgroup: [8, 8] },
  { family: 'blocks', block: [8, 8], workgroup: [4, 4] },
  { family: 'blocks', block: [8, 16], workgroup: [2, 2] },
  { family: 'blocks', block: [8, 16], workgroup: [4, 4] },
  { family: 'blocks', block: [16, 16], workgroup: [4, 4] },
  { family: 'blocks', block: [16, 16], workgroup: [2, 2] },
  { family: 'tiled', workgroup: [16, 16], extra: { TILE_M: 64 } },
  { family: 'tiled', workgroup: [16, 16], extra: { TILE_M: 128 } },
  { family: 'tiled', workgroup: [16, 16], extra: { TILE_M: 64, SPLIT_K: 2 } },
  { family: 'tiled', workgroup: [16, 16], extra: { TILE_M: 64, SPLIT_K: 4 } },
  { family: 'tiled', workgroup: [16, 16], extra: { TILE_M: 64, SPLIT_K: 8 } },
];

export type BlockKernelName = `matmulV${number}x${number}`;
export type MatmulKernelName = 'matmul' | 'matmulVec4k' | 'matmulVec4n' | 'matmulTiled' | 'matmulSplitKReduce' | BlockKernelName;

export const blockKernelName = ([rows, cols]: readonly [number, number]): BlockKernelName => `matmulV${rows}x${cols}`;

/** The register-block sizes of the `blocks` family, each once, in list order (the generator's input). */
export const matmulBlockSizes: readonly (readonly [number, number])[] = [
  ...new Map(matmulVariantSpecs.filter((s) => s.family === 'blocks').map((s) => [s.block!.join('x'), s.block!])).values(),
];

export interface MatmulVariant {
  /** Stable and unique: what a tuning table stores. */
  id: string;
  family: MatmulFamily;
  /** The kernel of the (first) step. */
  kernel: MatmulKernelName;
  /** Rows × columns of C one invocation computes. */
  block: readonly [number, number];
  /** Workgroup size (WG_X, WG_Y). */
  workgroup: readonly [number, number];
  /** Override constants beyond the standard seven. */
  extra: Constants;
  /** Bindings (0 A, 1 B, 2 E, 3 C) the kernel declares as array<vec4f>: they must be 16-byte aligned. */
  vec4Bindings: readonly number[];
  /** K is split into this many ranges whose partial products a second step adds (1: one step). */
  splitK: number;
  /** Whether the kernel computes this product (shape and transposes) correctly. */
  fits(shape: MatmulShape, flags: MatmulFlags): boolean;
}

const any = (): boolean => true;
/**
 * BIAS_GRAD needs Aᵀ·B (A = dY stored [batch, M]) and one pass: every single-pass kernel that runs Aᵀ·B
 * computes it the same way (an extra column of workgroups, shaders/matmul_common.wgsl).
 */
const fitsBiasGrad = (splitK: number, { transA, transB, biasGrad }: MatmulFlags) => !biasGrad || (transA && !transB && splitK === 1);
/** blocks: every operand as vec4; A along M (TRANS_A) or along K; Aᵀ·Bᵀ not supported. */
const fitsBlocks = ({ M, N, K }: MatmulShape, { transA, transB }: MatmulFlags) => !(transA && transB) && N % 4 === 0 && (transA ? M % 4 === 0 : K % 4 === 0);
/** vec4k: A·Bᵀ with A and B read along K and C written one element at a time (any N). */
const fitsVec4k = ({ K }: MatmulShape, { transA, transB }: MatmulFlags) => !transA && transB && K % 4 === 0;
/** vec4n: B, C, E along N and A one element at a time (any M, K). */
const fitsVec4n = ({ N }: MatmulShape, { transB }: MatmulFlags) => !transB && N % 4 === 0;
/** tiled: A and B along their contiguous dimension, C and E along N; every transpose combination. */
const fitsTiled = ({ M, N, K }: MatmulShape, { transA, transB }: MatmulFlags) => N % 4 === 0 && (transA ? M % 4 === 0 : K % 4 === 0) && (transB ? K % 4 === 0 : true);

function variantOf(spec: MatmulVariantSpec): MatmulVariant {
  const extra = spec.extra ?? {};
  const suffix = Object.entries(extra)
    .filter(([, v]) => v !== false)
    .map(([k, v]) => (v === true ? `+${k}` : `+${k}=${v}`))
    .join('');
  const wide = extra.WIDE ? 2 : 1;
  const [kernel, block, fits, vec4Bindings]: [MatmulKernelName, readonly [number, number], MatmulVariant['fits'], number[]] = (() => {
    switch (spec.family) {
      case 'reference':
        return ['matmul', [4, 4], any, []];
      case 'vec4k':
        return ['matmulVec4k', [4, 4 * wide], fitsVec4k, [0, 1]];
      case 'vec4n':
        return ['matmulVec4n', [4, 4 * wide], fitsVec4n, [1, 2, 3]];
      case 'blocks':
        return [blockKernelName(spec.block!), spec.block!, fitsBlocks, [0, 1, 2, 3]];
      case 'tiled':
        return ['matmulTiled', [Number(extra.TILE_M) / spec.workgroup[1], 64 / spec.workgroup[0]], fitsTiled, [0, 1, 2, 3]];
    }
  })();
  const splitK = Number(extra.SPLIT_K ?? 1);
  const fitsAll: MatmulVariant['fits'] = (shape, flags) => fits(shape, flags) && fitsBiasGrad(splitK, flags);
  return { id: `${kernel}${suffix}@${spec.workgroup[0]}x${spec.workgroup[1]}`, family: spec.family, kernel, block, workgroup: spec.workgroup, extra, vec4Bindings, splitK, fits: fitsAll };
}

export const matmulVariants: readonly MatmulVariant[] = matmulVariantSpecs.map(variantOf);

/** The reference variant: what lowering emits and what every other variant is verified against. */
export const REFERENCE_MATMUL: MatmulVariant = matmulVariants[0];

/** Every kernel a matmul product may run (the variants' and the split-K reduction). */
export const matmulKernelNames: ReadonlySet<KernelName> = new Set<KernelName>([...matmulVariants.map((v) => v.kernel), 'matmulSplitKReduce']);

export function variantById(id: string | undefined): MatmulVariant | undefined {
  return matmulVariants.find((v) => v.id === id);
}

/** The standard six flags of a product (TRANS_A, TRANS_B, BIAS, ACT, ACT_GRAD, BIAS_GRAD), normalised; others dropped. */
export function baseConstants(constants: Constants): Constants {
  const { TRANS_A, TRANS_B, BIAS, ACT, ACT_GRAD, BIAS_GRAD } = constants;
  return { TRANS_A: !!TRANS_A, TRANS_B: !!TRANS_B, BIAS: !!BIAS, ACT: Number(ACT ?? 0), ACT_GRAD: Number(ACT_GRAD ?? 0), BIAS_GRAD: !!BIAS_GRAD };
}

export const flagsOf = (constants: Constants): MatmulFlags => ({ transA: !!constants.TRANS_A, transB: !!constants.TRANS_B, biasGrad: !!constants.BIAS_GRAD });

/** The first step's constants: the product's six flags with this variant's workgroup size and extras. */
export function variantConstants(variant: MatmulVariant, base: Constants): Constants {
  return { ...baseConstants(base), WG_X: variant.workgroup[0], WG_Y: variant.workgroup[1], ...variant.extra };
}

/**
 * The first step's workgroup count: one workgroup per tile of C, and one layer per K split; with BIAS_GRAD
 * one more column of workgroups, which computes D.
 */
export function variantWorkgroups(variant: MatmulVariant, { M, N }: MatmulShape, biasGrad = false): [number, number, number] {
  const [rows, cols] = variant.block;
  const [wx, wy] = variant.workgroup;
  return [Math.max(1, Math.ceil(N / (cols * wx))) + (biasGrad ? 1 : 0), Math.max(1, Math.ceil(M / (rows * wy))), variant.splitK];
}

/**
 * What a storage binding of a step is bound to: the product's own operands (A, B, E, C; D, BIAS_GRAD's
 * output), the scratch buffer, or a dummy (`dummy` where the kernel reads, `dummyOut` where it may write).
 */
export type MatmulOperand = 'A' | 'B' | 'E' | 'C' | 'D' | 'scratch' | 'dummy' | 'dummyOut';

/** The storage bindings of a step, in binding order (0 A, 1 B, 2 E, 3 C, 4 D); binding 5 is the product's Params. */
export type MatmulStepOperands = readonly [MatmulOperand, MatmulOperand, MatmulOperand, MatmulOperand, MatmulOperand];

/** A step's bindings in binding order: its storage operands, then the Params (binding 5). */
export function stepBindings(operands: MatmulStepOperands): (MatmulOperand | 'params')[] {
  return [...operands, 'params'];
}

/** One dispatch of a product. Binding 5 of every step is the product's Params (the same M, N, K, alpha). */
export interface MatmulStep {
  kernel: KernelName;
  constants: Constants;
  workgroups: [number, number, number];
  operands: MatmulStepOperands;
}

/**
 * How one product runs: its steps in order, and the scratch buffer they share (scratchBytes > 0 only for
 * split-K: SPLIT_K·M·N floats of partial products, written in full by the first step before the second
 * reads them, so it needs no clearing; a buffer of its own, or any activation buffer free across both steps).
 */
export interface MatmulSelection {
  variant: MatmulVariant;
  steps: MatmulStep[];
  scratchBytes: number;
}

/** Reduction step: one invocation per vec4 of C (256 per workgroup), folded into 2-D past 65,535 workgroups. */
const REDUCE_WORKGROUP = 256;

export function variantSteps(variant: MatmulVariant, shape: MatmulShape, constants: Constants): MatmulSelection {
  const biasGrad = !!constants.BIAS_GRAD;
  const first: MatmulStep = {
    kernel: variant.kernel,
    constants: variantConstants(variant, constants),
    workgroups: variantWorkgroups(variant, shape, biasGrad),
    operands: variant.splitK > 1 ? ['A', 'B', 'dummy', 'scratch', 'dummyOut'] : ['A', 'B', 'E', 'C', biasGrad ? 'D' : 'dummyOut'],
  };
  if (variant.splitK === 1) return { variant, steps: [first], scratchBytes: 0 };
  const vec4s = (shape.M * shape.N) / 4;
  const groups = Math.max(1, Math.ceil(vec4s / REDUCE_WORKGROUP));
  const y = Math.ceil(groups / 65535);
  const reduce: MatmulStep = {
    kernel: 'matmulSplitKReduce',
    constants: { ...baseConstants(constants), SPLIT_K: variant.splitK },
    workgroups: [Math.ceil(groups / y), y, 1],
    operands: ['scratch', 'dummy', 'E', 'C', 'dummyOut'],
  };
  return { variant, steps: [first, reduce], scratchBytes: variant.splitK * shape.M * shape.N * 4 };
}
