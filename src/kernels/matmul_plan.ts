/**
 * Reading matmul products back out of a plan: what the tuner needs (the products of a plan built with an
 * empty tuning table, every one on the reference kernel) and what tests and the bench inspect. Applying a
 * table is the planner's job (src/scheduler/plan.ts calls selectMatmul while planning).
 */
import type { Plan, PlannedDispatch } from '../scheduler/plan';
import { kernels } from './catalog';
import { alignmentOf } from './matmul_policy';
import type { MatmulRequest } from './matmul_select';
import { REFERENCE_MATMUL, matmulKernelNames, matmulVariants, type MatmulShape, type MatmulVariant } from './matmul_variants';

export { MATMUL_SCRATCH as SCRATCH_BUFFER } from '../scheduler/plan';

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

function requestOf(plan: Plan, dispatch: PlannedDispatch): MatmulRequest {
  const { M, N, K } = matmulParamsOf(plan, dispatch);
  return { shape: { M, N, K }, constants: dispatch.constants, alignment: alignmentOf(dispatch.bindings), label: dispatch.label };
}

/** The products of a plan built with no tuning (every matmul the reference), to hand to `tuneMatmuls`. */
export function matmulRequestsOf(plan: Plan): MatmulRequest[] {
  return plan.dispatches.filter((d) => d.kernel === REFERENCE_MATMUL.kernel).map((d) => requestOf(plan, d));
}

/** The variant a planned (first-step) matmul dispatch runs: its kernel, workgroup size and extras. */
export function variantOfDispatch(dispatch: PlannedDispatch): MatmulVariant | undefined {
  const standard = new Set(['TRANS_A', 'TRANS_B', 'BIAS', 'ACT', 'ACT_GRAD', 'BIAS_GRAD', 'WG_X', 'WG_Y']);
  return matmulVariants.find((v) => {
    if (v.kernel !== dispatch.kernel || dispatch.constants.WG_X !== v.workgroup[0] || dispatch.constants.WG_Y !== v.workgroup[1]) return false;
    const extras = new Set([...Object.keys(v.extra), ...Object.keys(dispatch.constants).filter((k) => !standard.has(k))]);
    return [...extras].every((k) => Number(dispatch.constants[k] ?? 0) === Number(v.extra[k] ?? 0));
  });
}
