/**
 * Turns a (fused) node list into a static plan: plain data that says which buffers exist and how big,
 * which external buffers it binds, and the commands of one step in order — the copies that bring in the
 * step's values, then the dispatches with their bindings. It never touches a GPUDevice, so plans can be
 * printed, diffed and tested without a GPU; src/scheduler/executable.ts instantiates one.
 *
 * Activation buffers are assigned by liveness: a buffer is reused once the last reader of its tensor has
 * run. Views (reshape) share their source's buffer and extend its life. Parameters, gradients and state
 * (running statistics) are slices of their arenas; external tensors are buffers owned by whoever made
 * their handles. A node that lowers to several dispatches may use scratch buffers, allocated like
 * activations that live only across that node.
 */
import { ShapeError } from '../errors';
import type { ExternalBuffer, Node, Tensor } from '../graph/graph';
import { kernels, type KernelName } from '../kernels/catalog';
import type { Constants } from '../kernels/kernel';
import { lowerNode, type LoweredDispatch, type Operand } from '../kernels/lower';
import { alignmentOf } from '../kernels/matmul_policy';
import { selectMatmul, type TuningTable } from '../kernels/matmul_select';
import { REFERENCE_MATMUL, stepBindings } from '../kernels/matmul_variants';
import type { ParameterArena } from '../nn/parameters';

export interface BufferSpec {
  name: string;
  bytes: number;
}

/** A range of a buffer: one the plan owns, or an external one, by name (plan.externals has its handle). */
export interface BindingRef {
  buffer: string;
  offset: number;
  size: number;
}

export interface PlannedDispatch {
  kind: 'dispatch';
  label: string;
  kernel: KernelName;
  constants: Constants;
  bindings: BindingRef[];
  workgroups: [number, number, number];
}

/** A copy within the command buffer. `stepStride`: the source advances by this many bytes per step of a submit. */
export interface PlannedCopy {
  kind: 'copy';
  label: string;
  from: BindingRef;
  to: BindingRef;
  stepStride?: number;
}

export interface PlannedClear {
  kind: 'clear';
  label: string;
  target: BindingRef;
}

/** Commands other than dispatches; they run between compute passes. */
export type TransferCommand = PlannedCopy | PlannedClear;
export type Command = PlannedDispatch | TransferCommand;

export interface Plan {
  /** Buffers the plan owns (activations, the dummy, the packed Params uniforms). */
  buffers: BufferSpec[];
  /** Buffers it binds but does not own; an executable needs a GPUBuffer for each. */
  externals: ExternalBuffer[];
  /** Initial contents of the `uniforms` buffer: every dispatch's Params at 256-byte steps. */
  uniformData: ArrayBuffer;
  /** Transfers that run first in every step (the step's values copied from the epoch's table). */
  transfers: TransferCommand[];
  dispatches: PlannedDispatch[];
  /** Where each tensor lives, by tensor id. */
  refs: Map<number, BindingRef>;
}

/** The arenas a plan places parameters, gradients and state in. */
export interface ArenaLayout {
  params: ParameterArena;
  paramsBuffer: ExternalBuffer;
  gradsBuffer: ExternalBuffer;
  /** Non-trainable buffers (running statistics). */
  state?: ParameterArena;
  stateBuffer?: ExternalBuffer;
}

export interface PlanOptions {
  /** Dispatches appended after the graph (the optimizer); they bind external buffers only. */
  extra?: readonly LoweredDispatch[];
  /** Copy the step's entry of `table` (`stride` bytes apart) into `step` before the dispatches. */
  stepValues?: { table: ExternalBuffer; step: ExternalBuffer; stride: number };
  /**
   * The matmul variant of each product (src/kernels/matmul_select.ts): choosing is a pure function of this
   * table, applied here while planning. Empty or absent: every product runs the reference kernel.
   */
  tuning?: TuningTable;
}

const UNIFORM_STRIDE = 256;
const DUMMY = 'dummy';
/** A second dummy for bindings a kernel may write (a buffer cannot be bound read-only and writable in one dispatch). */
const DUMMY_OUT = 'dummy.out';
export const UNIFORMS = 'uniforms';
/** One buffer for the partial sums of every split-K product (each needs it only between its own two steps). */
export const MATMUL_SCRATCH = 'matmul.scratch';

const rootOf = (t: Tensor): Tensor => t.viewOf ?? t;

function liveRanges(nodes: readonly Node[]): Map<number, [number, number]> {
  const ranges = new Map<number, [number, number]>();
  nodes.forEach((node, i) => {
    for (const t of node.outputs.map(rootOf)) if (!ranges.has(t.id)) ranges.set(t.id, [i, t.keep ? Infinity : i]);
    for (const t of [...node.inputs, ...node.outputs]) {
      const r = ranges.get(rootOf(t).id);
      if (r) r[1] = Math.max(r[1], t.keep ? Infinity : i);
    }
  });
  return ranges;
}

export function planStep(nodes: readonly Node[], layout: ArenaLayout, options: PlanOptions = {}): Plan {
  const refs = new Map<number, BindingRef>();
  const buffers: BufferSpec[] = [];
  const free: BufferSpec[] = [];
  const externals = new Map<string, ExternalBuffer>();
  const ranges = liveRanges(nodes);

  const declare = (handle: ExternalBuffer): string => {
    const known = externals.get(handle.name);
    if (known && known !== handle) throw new ShapeError(`Two different external buffers are both named '${handle.name}'.`);
    externals.set(handle.name, handle);
    return handle.name;
  };
  const arenaRef = (arena: ParameterArena | undefined, handle: ExternalBuffer | undefined, t: Tensor, what: string): BindingRef => {
    if (!arena || !handle) throw new ShapeError(`${t} is ${what}, but the plan was given no ${what} arena.`);
    const slot = arena.slot((t.gradOf ?? t).name);
    if (slot.size !== t.size) throw new ShapeError(`${t} has ${t.size} elements but its arena slot ${slot.name} holds ${slot.size}.`);
    return { buffer: declare(handle), offset: slot.offset * 4, size: t.size * 4 };
  };
  const place = (t: Tensor): void => {
    if (refs.has(t.id)) return;
    const bytes = t.size * 4;
    if (t.viewOf) {
      place(t.viewOf);
      refs.set(t.id, { ...refs.get(t.viewOf.id)!, size: bytes });
    } else if (t.role === 'param') {
      refs.set(t.id, arenaRef(layout.params, layout.paramsBuffer, t, 'a parameter'));
    } else if (t.role === 'grad') {
      refs.set(t.id, arenaRef(layout.params, layout.gradsBuffer, t, 'a gradient'));
    } else if (t.role === 'state') {
      refs.set(t.id, arenaRef(layout.state, layout.stateBuffer, t, 'state'));
    } else if (t.role === 'external') {
      if (!t.external) throw new ShapeError(`External tensor ${t} has no buffer handle.`);
      refs.set(t.id, { buffer: declare(t.external), offset: 0, size: Math.min(bytes, t.external.bytes) });
    } else {
      refs.set(t.id, { buffer: allocate(bytes).name, offset: 0, size: bytes });
    }
  };
  // Best fit: the smallest free buffer that holds it, else grow the largest free one, else a new one.
  const allocate = (bytes: number): BufferSpec => {
    free.sort((a, b) => a.bytes - b.bytes);
    let index = free.findIndex((b) => b.bytes >= bytes);
    if (index < 0 && free.length) index = free.length - 1;
    const buffer = index >= 0 ? free.splice(index, 1)[0] : { name: `act${buffers.length}`, bytes: 0 };
    if (index < 0) buffers.push(buffer);
    buffer.bytes = Math.max(buffer.bytes, bytes);
    return buffer;
  };
  const release = (t: Tensor): void => {
    const ref = refs.get(t.id);
    const buffer = ref && buffers.find((b) => b.name === ref.buffer);
    if (buffer && !free.includes(buffer)) free.push(buffer);
  };

  const lowered: { label: string; dispatch: LoweredDispatch }[] = [];
  const scratchRefs = new Map<Operand, BindingRef>();
  nodes.forEach((node, i) => {
    node.inputs.forEach(place);
    node.outputs.forEach(place);
    const dispatches = lowerNode(node);
    // Scratch buffers come after the outputs, so they never alias a tensor the node uses; freed with the node.
    const operands = dispatches.flatMap((d) => d.operands);
    const scratchSizes = new Map<number, number>();
    for (const o of operands) if ('scratch' in o) scratchSizes.set(o.scratch, Math.max(scratchSizes.get(o.scratch) ?? 0, o.bytes));
    const scratch = new Map([...scratchSizes].map(([k, bytes]) => [k, allocate(bytes)] as const));
    for (const o of operands) if ('scratch' in o) scratchRefs.set(o, { buffer: scratch.get(o.scratch)!.name, offset: 0, size: scratchSizes.get(o.scratch)! });
    const label = `${node.op}→${node.outputs.map((t) => t.name).join(',')}`;
    dispatches.forEach((dispatch, k) => lowered.push({ label: dispatches.length > 1 ? `${label} (${k + 1}/${dispatches.length})` : label, dispatch }));
    for (const buffer of scratch.values()) free.push(buffer);
    // Freed only after this node's outputs are placed: a dispatch never reads and writes one buffer.
    for (const t of [...node.inputs, ...node.outputs]) {
      const root = rootOf(t);
      if (root.role === 'activation' && ranges.get(root.id)?.[1] === i) release(root);
    }
  });
  (options.extra ?? []).forEach((dispatch) => lowered.push({ label: dispatch.kernel, dispatch }));

  buffers.push({ name: DUMMY, bytes: 16 });
  let scratchBytes = 0;
  let dummyOut = false;
  const dummyRef = (writable = false): BindingRef => {
    if (writable) dummyOut = true;
    return { buffer: writable ? DUMMY_OUT : DUMMY, offset: 0, size: 16 };
  };
  const uniformData = new ArrayBuffer(Math.max(1, lowered.length) * UNIFORM_STRIDE);
  buffers.push({ name: UNIFORMS, bytes: uniformData.byteLength });

  const resolve = (operand: Operand): BindingRef => {
    if ('tensor' in operand) return refs.get(operand.tensor.id) ?? (place(operand.tensor), refs.get(operand.tensor.id)!);
    if ('external' in operand) return { buffer: declare(operand.external), offset: 0, size: operand.external.bytes };
    if ('scratch' in operand) return scratchRefs.get(operand)!;
    return dummyRef(operand.writable);
  };
  const dispatches = lowered.flatMap(({ label, dispatch }, i): PlannedDispatch[] => {
    const layoutOf = kernels[dispatch.kernel].params;
    layoutOf.pack(dispatch.params, uniformData, i * UNIFORM_STRIDE);
    const params = { buffer: UNIFORMS, offset: i * UNIFORM_STRIDE, size: layoutOf.byteSize };
    const operands = dispatch.operands.map(resolve);
    if (dispatch.kernel !== REFERENCE_MATMUL.kernel) {
      return [{ kind: 'dispatch', label, kernel: dispatch.kernel, constants: dispatch.constants, bindings: [...operands, params], workgroups: dispatch.workgroups }];
    }
    // A matmul runs the variant the tuning table names for its shape, flags and alignment: one step, or
    // split-K's two (partial products into the scratch buffer, then their sum and the epilogue).
    const { M, N, K } = dispatch.params;
    const selection = selectMatmul({ M, N, K }, dispatch.constants, alignmentOf(operands), options.tuning ?? {});
    scratchBytes = Math.max(scratchBytes, selection.scratchBytes);
    const bound = (operand: string): BindingRef => {
      const index = ['A', 'B', 'E', 'C', 'D'].indexOf(operand);
      if (index >= 0) return operands[index];
      if (operand === 'params') return params;
      if (operand === 'scratch') return { buffer: MATMUL_SCRATCH, offset: 0, size: selection.scratchBytes };
      return dummyRef(operand === 'dummyOut');
    };
    return selection.steps.map((step, s) => ({
      kind: 'dispatch',
      label: s === 0 ? label : `${label} (split-K sum)`,
      kernel: step.kernel,
      constants: step.constants,
      bindings: stepBindings(step.operands).map(bound),
      workgroups: step.workgroups,
    }));
  });
  if (scratchBytes) buffers.push({ name: MATMUL_SCRATCH, bytes: scratchBytes });
  if (dummyOut) buffers.push({ name: DUMMY_OUT, bytes: 16 });
  const transfers: TransferCommand[] = [];
  const sv = options.stepValues;
  if (sv) {
    const bytes = sv.step.bytes;
    transfers.push({
      kind: 'copy',
      label: 'step values',
      from: { buffer: declare(sv.table), offset: 0, size: bytes },
      to: { buffer: declare(sv.step), offset: 0, size: bytes },
      stepStride: sv.stride,
    });
  }
  return { buffers, externals: [...externals.values()], uniformData, transfers, dispatches, refs };
}

/** A human-readable listing (the `--print-plan` output and the plan snapshot test). */
export function formatPlan(plan: Plan): string {
  const kib = (b: number) => (b < 1024 ? `${b} B` : `${(b / 1024).toFixed(1)} KiB`);
  const ref = (b: BindingRef) => (b.offset ? `${b.buffer}+${b.offset}` : b.buffer);
  const lines = [`buffers (${plan.buffers.length}, ${kib(plan.buffers.reduce((s, b) => s + b.bytes, 0))}):`];
  for (const b of plan.buffers) lines.push(`  ${b.name.padEnd(10)} ${kib(b.bytes)}`);
  lines.push(`externals (${plan.externals.length}): ${plan.externals.map((e) => `${e.name} ${kib(e.bytes)}${e.uniform ? ' uniform' : ''}`).join(', ')}`);
  lines.push(`commands (${plan.transfers.length} transfers, ${plan.dispatches.length} dispatches):`);
  for (const c of plan.transfers) {
    const what = c.kind === 'copy' ? `copy ${ref(c.from)}${c.stepStride ? ` + ${c.stepStride}·step` : ''} → ${ref(c.to)}, ${c.from.size} B` : `clear ${ref(c.target)}`;
    lines.push(`   - ${what}  ${c.label}`);
  }
  plan.dispatches.forEach((d, i) => {
    const flags = Object.entries(d.constants)
      .filter(([, v]) => v !== false && v !== 0)
      .map(([k, v]) => (v === true ? k : `${k}=${v}`))
      .join(' ');
    const binds = d.bindings.map(ref).join(', ');
    lines.push(`  ${String(i).padStart(2)} ${d.kernel.padEnd(18)} [${d.workgroups.join('×')}] ${flags ? `{${flags}} ` : ''}(${binds})  ${d.label}`);
  });
  return lines.join('\n');
}
