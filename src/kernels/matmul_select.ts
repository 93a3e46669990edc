/**
 * Choosing a matmul variant is a pure function of a tuning table, applied while planning: `selectMatmul`
 * looks the product up and returns the steps it runs (the reference when the table has nothing usable).
 * The autotuner (src/kernels/autotune.ts) fills tables; the host persists them per adapter
 * (src/kernels/tuning_store.ts); a checkpoint carries the table its run used, so a resumed run runs the same
 * kernels and sums in the same order.
 */
import { alignedFor, splitKFits, type BindingAlignment } from './matmul_policy';
import type { Constants } from './kernel';
import { REFERENCE_MATMUL, baseConstants, flagsOf, variantById, variantSteps, type MatmulSelection, type MatmulShape } from './matmul_variants';

/**
 * Variant ids by product key (`tuningKey`). Plain JSON. A table belongs to one adapter (a variant's speed
 * is the adapter's); the store keys tables by adapter, the table's keys name only the product.
 */
export type TuningTable = Record<string, string>;

/** A product to choose a variant for (what the planner knows of a matmul node once its buffers are placed). */
export interface MatmulRequest {
  shape: MatmulShape;
  /** The product's reference constants; only TRANS_A, TRANS_B, BIAS, ACT, ACT_GRAD matter. */
  constants: Constants;
  /** Whether bindings A, B, E, C start and end on 16-byte boundaries. */
  alignment: BindingAlignment;
  /** For log messages. */
  label?: string;
}

/** A product's key: its shape, its five flags and the alignment of its bindings A, B, E, C. */
export function tuningKey({ M, N, K }: MatmulShape, constants: Constants, alignment: BindingAlignment): string {
  const flags = Object.entries(baseConstants(constants))
    .map(([k, v]) => `${k}=${Number(v)}`)
    .join(',');
  return `${M}x${N}x${K}|${flags}|align=${alignment.map(Number).join('')}`;
}

/**
 * The steps that compute C = op(A)·op(B) + epilogue for this product: the table's variant when it names
 * one that fits the shape, the transposes and the alignment, else the reference (one step, the dispatch
 * lowering emits). Pure: the same arguments give the same selection.
 */
export function selectMatmul(shape: MatmulShape, constants: Constants, alignment: BindingAlignment, table: TuningTable): MatmulSelection {
  const variant = variantById(table[tuningKey(shape, constants, alignment)]);
  const usable = variant && variant.fits(shape, flagsOf(constants)) && alignedFor(variant, alignment) && splitKFits(variant, shape);
  return variantSteps(usable ? variant : REFERENCE_MATMUL, shape, constants);
}

/** One line per step, e.g. `matmulTiled+TILE_M=64+SPLIT_K=4@16x16: matmulTiled [2×2×4] → matmulSplitKReduce [16×1×1], scratch 256.0 KiB`. */
export function formatSelection(selection: MatmulSelection): string {
  const steps = selection.steps.map((s) => `${s.kernel} [${s.workgroups.join('×')}]`).join(' → ');
  const scratch = selection.scratchBytes ? `, scratch ${(selection.scratchBytes / 1024).toFixed(1)} KiB` : '';
  return `${selection.variant.id}: ${steps}${scratch}`;
}

/**
 * Copies choices to products of another size (the last partial batch of an epoch, which runs once and is
 * not worth timing): for each pair, `to` gets the variant `from` has when it fits `to`. Pure.
 */
export function adoptChoices(table: TuningTable, pairs: readonly { from: MatmulRequest; to: MatmulRequest }[]): TuningTable {
  const adopted: TuningTable = { ...table };
  for (const { from, to } of pairs) {
    const key = tuningKey(to.shape, to.constants, to.alignment);
    if (adopted[key]) continue;
    const id = table[tuningKey(from.shape, from.constants, from.alignment)];
    if (id && selectMatmul(to.shape, to.constants, to.alignment, { [key]: id }).variant.id === id) adopted[key] = id;
  }
  return adopted;
}
