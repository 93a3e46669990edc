/**
 * Tuning tables applied to a finished plan of today's format (src/scheduler/plan.ts), where lowering emits
 * every matmul as the reference dispatch. This is the bridge until the planner calls `selectMatmul` while
 * lowering; it does exactly what the planner then must:
 *   - per matmul product: M, N, K from its Params, the alignment of its bindings A, B, E, C;
 *   - `selectMatmul(shape, constants, alignment, table)`; each step becomes a dispatch binding, in order,
 *     the operands its `operands` name, and the product's Params uniform (the same slot for every step);
 *   - one scratch buffer, as large as the largest selection's `scratchBytes`, shared by every split-K
 *     product (each needs it only between its own two steps).
 */
import type { BindingRef, Plan, PlannedDispatch } from '../scheduler/plan';
import { kernels } from './catalog';
import { alignmentOf } from './matmul_policy';
import { selectMatmul, tuningKey, type MatmulRequest, type TuningTable } from './matmul_select';
import { REFERENCE_MATMUL, matmulKernelNames, matmulVariants, type MatmulOperand, type MatmulShape, type MatmulVariant } from './matmul_variants';
import type { Constants } from './kernel';

export const SCRATCH_BUFFER = 'matmul.scratch';
const DUMMY_BUFFER = 'dummy';

const paramFields: string[] = kernels.matmul.params.fields.map(([name]) => name);

/** M, N, K and alpha of a planned matmul dispatch, read back from the plan's packed Params. */
export function matmulParamsOf(plan: Plan, dispatch: PlannedDispatch): MatmulShape & { alpha: number } {
  const params = dispatch.bindings[dispatch.bindings.length - 1];
  const view = new DataView(plan.uniformData, params.offset, kernels.matmul.params.byteSize);
  const u32 = (name: string) => view.getUint32(4 * paramFields.indexOf(name), true);
  return { M: u32('M'), N: u32('N'), K: u32('K'), alpha: view.getFloat32(4 * paramFields.indexOf('alpha'), true) };
}

/** Whether a planned dispatch runs a matmul kernel (any variant, either step). */
export function isMatmulDispatch(dispatch: PlannedDispatch): boolean {
  return matmulKernelNames.has(dispatch.kernel);
}

/** The first step of each matmul product of a plan (a split-K product's reduction is not one). */
const productDispatches = (plan: Plan) => plan.dispatches.filter((d) => isMatmulDispatch(d) && d.kernel !== 'matmulSplitKReduce');

function requestOf(plan: Plan, dispatch: PlannedDispatch): MatmulRequest {
  const { M, N, K } = matmulParamsOf(plan, dispatch);
  return { shape: { M, N, K }, constants: dispatch.constants, alignment: alignmentOf(dispatch.bindings), label: dispatch.label };
}

/** The products of a plan built with no tuning (every matmul the reference), to hand to `tuneMatmuls`. */
export function matmulRequestsOf(plan: Plan): MatmulRequest[] {
  return plan.dispatches.filter((d) => d.kernel === REFERENCE_MATMUL.kernel).map((d) => requestOf(plan, d));
}

/**
 * Every reference matmul of `plan` rewritten to the steps `selectMatmul` gives it under `table`. Returns a
 * new plan sharing the old one's uniforms and refs; other dispatches are returned as they are, and so is a
 * product the table leaves on the reference kernel.
 */
export function applyTuningTable(plan: Plan, table: TuningTable): Plan {
  let scratchBytes = 0;
  const dispatches = plan.dispatches.flatMap((dispatch): PlannedDispatch[] => {
    if (dispatch.kernel !== REFERENCE_MATMUL.kernel) return [dispatch];
    const { shape, constants, alignment } = requestOf(plan, dispatch);
    const selection = selectMatmul(shape, constants, alignment, table);
    const [first] = selection.steps;
    if (selection.steps.length === 1 && first.kernel === dispatch.kernel && sameConstants(first.constants, dispatch.constants)) return [dispatch];
    scratchBytes = Math.max(scratchBytes, selection.scratchBytes);
    const bound = (operand: MatmulOperand): BindingRef => {
      const index = ['A', 'B', 'E', 'C'].indexOf(operand);
      if (index >= 0) return dispatch.bindings[index];
      if (operand === 'scratch') return { buffer: SCRATCH_BUFFER, offset: 0, size: selection.scratchBytes };
      return { buffer: DUMMY_BUFFER, offset: 0, size: 16 };
    };
    const params = dispatch.bindings[dispatch.bindings.length - 1];
    return selection.steps.map((step, i) => ({
      label: i === 0 ? dispatch.label : `${dispatch.label} (split-K sum)`,
      kernel: step.kernel,
      constants: step.constants,
      bindings: [...step.operands.map(bound), params],
      workgroups: step.workgroups,
    }));
  });
  const buffers = plan.buffers.filter((b) => b.name !== SCRATCH_BUFFER);
  if (scratchBytes) buffers.push({ name: SCRATCH_BUFFER, bytes: scratchBytes });
  if (scratchBytes && !buffers.some((b) => b.name === DUMMY_BUFFER)) buffers.push({ name: DUMMY_BUFFER, bytes: 16 });
  return { ...plan, buffers: scratchBytes ? buffers : plan.buffers, dispatches };
}

const sameConstants = (a: Constants, b: Constants) => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => Number(a[k] ?? 0) === Number(b[k] ?? 0));
};

/** The variant a planned (first-step) matmul dispatch runs: its kernel, workgroup size and extras. */
export function variantOfDispatch(dispatch: PlannedDispatch): MatmulVariant | undefined {
  const standard = new Set(['TRANS_A', 'TRANS_B', 'BIAS', 'ACT', 'ACT_GRAD', 'WG_X', 'WG_Y']);
  return matmulVariants.find((v) => {
    if (v.kernel !== dispatch.kernel || dispatch.constants.WG_X !== v.workgroup[0] || dispatch.constants.WG_Y !== v.workgroup[1]) return false;
    const extras = new Set([...Object.keys(v.extra), ...Object.keys(dispatch.constants).filter((k) => !standard.has(k))]);
    return [...extras].every((k) => Number(dispatch.constants[k] ?? 0) === Number(v.extra[k] ?? 0));
  });
}

/**
 * Gives `target`'s reference matmuls (the last partial batch's plan) the variants `source` (a tuned plan
 * of the same graph) runs for its product at the same position and label, where they fit; the others
 * keep the reference. Nothing is timed, so a plan that runs once an epoch costs no tuning.
 */
export function adoptMatmulVariants(source: Plan, target: Plan): Plan {
  const tuned = productDispatches(source);
  const table: TuningTable = {};
  matmulRequestsOf(target).forEach((to, i) => {
    const from = tuned[i];
    const variant = from && from.label === to.label ? variantOfDispatch(from) : undefined;
    // selectMatmul keeps the reference where the variant does not fit this batch's shape or alignment.
    if (variant) table[tuningKey(to.shape, to.constants, to.alignment)] = variant.id;
  });
  return applyTuningTable(target, table);
}
