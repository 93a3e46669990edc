/**
 * Turns a (fused) node list into a static plan: plain data that says which buffers exist, how big, and
 * which dispatches run in which order with which bindings. It never touches a GPUDevice, so plans can
 * be printed, diffed and tested without a GPU; src/scheduler/executable.ts instantiates one.
 *
 * Activation buffers are assigned by liveness: a buffer is reused once the last reader of its tensor has
 * run. Parameters and gradients are slices of the arenas, state tensors (running statistics) slices of the
 * state buffer; external tensors are buffers owned by the caller. A node that lowers to several dispatches
 * may use scratch buffers, allocated like activations that live only across that node.
 */
import type { Node, Tensor } from '../graph/graph';
import { kernels, type KernelName } from '../kernels/catalog';
import type { Constants } from '../kernels/kernel';
import { lowerNode, type LoweredDispatch, type Operand } from '../kernels/lower';
import type { ParameterArena } from '../nn/parameters';

export interface BufferSpec {
  name: string;
  bytes: number;
}

export interface BindingRef {
  buffer: string;
  offset: number;
  size: number;
}

export interface PlannedDispatch {
  label: string;
  kernel: KernelName;
  constants: Constants;
  bindings: BindingRef[];
  workgroups: [number, number, number];
}

export interface Plan {
  /** Buffers the plan owns (activations, the dummy, the packed Params uniforms). */
  buffers: BufferSpec[];
  /** Initial contents of the `uniforms` buffer: every dispatch's Params at 256-byte steps. */
  uniformData: ArrayBuffer;
  dispatches: PlannedDispatch[];
  /** Where each tensor lives, by tensor id. */
  refs: Map<number, BindingRef>;
}

/** Named buffers a plan binds but does not own. */
export const ARENA_PARAMS = 'params';
export const ARENA_GRADS = 'grads';
/** The buffer of `state` tensors (non-trainable buffers such as running statistics). */
export const STATE_BUFFER = 'state';

const UNIFORM_STRIDE = 256;
const DUMMY = 'dummy';
const UNIFORMS = 'uniforms';

function liveRanges(nodes: readonly Node[]): Map<number, [number, number]> {
  const ranges = new Map<number, [number, number]>();
  nodes.forEach((node, i) => {
    for (const t of node.outputs) if (!ranges.has(t.id)) ranges.set(t.id, [i, t.keep ? Infinity : i]);
    for (const t of node.inputs) {
      const r = ranges.get(t.id);
      if (r) r[1] = Math.max(r[1], i);
    }
  });
  return ranges;
}

/**
 * Extra dispatches (e.g. the optimizer) run after the graph and bind only external buffers. `state` gives
 * the offsets of `state` tensors in the state buffer, by name; by default they take their slot of `arena`
 * (a state buffer laid out like the parameter arena).
 */
export function planStep(nodes: readonly Node[], arena: ParameterArena, extra: readonly LoweredDispatch[] = [], state: ParameterArena = arena): Plan {
  const refs = new Map<number, BindingRef>();
  const buffers: BufferSpec[] = [];
  const free: BufferSpec[] = [];
  const ranges = liveRanges(nodes);

  const place = (t: Tensor): void => {
    if (refs.has(t.id)) return;
    const bytes = t.size * 4;
    if (t.role === 'param' || t.role === 'grad') {
      const slot = arena.slot((t.gradOf ?? t).name);
      refs.set(t.id, { buffer: t.role === 'param' ? ARENA_PARAMS : ARENA_GRADS, offset: slot.offset * 4, size: bytes });
    } else if (t.role === 'state') {
      refs.set(t.id, { buffer: STATE_BUFFER, offset: state.slot(t.name).offset * 4, size: bytes });
    } else if (t.role === 'external') {
      refs.set(t.id, { buffer: t.name, offset: 0, size: bytes });
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
    const scratchBytes = new Map<number, number>();
    for (const o of operands) if ('scratch' in o) scratchBytes.set(o.scratch, Math.max(scratchBytes.get(o.scratch) ?? 0, o.bytes));
    const scratch = new Map([...scratchBytes].map(([k, bytes]) => [k, allocate(bytes)] as const));
    for (const o of operands) if ('scratch' in o) scratchRefs.set(o, { buffer: scratch.get(o.scratch)!.name, offset: 0, size: scratchBytes.get(o.scratch)! });
    const label = `${node.op}→${node.outputs.map((t) => t.name).join(',')}`;
    dispatches.forEach((dispatch, k) => lowered.push({ label: dispatches.length > 1 ? `${label} (${k + 1}/${dispatches.length})` : label, dispatch }));
    for (const buffer of scratch.values()) free.push(buffer);
    // Freed only after this node's outputs are placed: a dispatch never reads and writes one buffer.
    for (const t of [...node.inputs, ...node.outputs]) {
      if (t.role === 'activation' && ranges.get(t.id)![1] === i) release(t);
    }
  });
  extra.forEach((dispatch) => lowered.push({ label: dispatch.kernel, dispatch }));

  buffers.push({ name: DUMMY, bytes: 16 });
  const uniformData = new ArrayBuffer(Math.max(1, lowered.length) * UNIFORM_STRIDE);
  buffers.push({ name: UNIFORMS, bytes: uniformData.byteLength });

  const resolve = (operand: Operand): BindingRef => {
    if ('tensor' in operand) return refs.get(operand.tensor.id) ?? (place(operand.tensor), refs.get(operand.tensor.id)!);
    if ('external' in operand) return { buffer: operand.external, offset: 0, size: operand.bytes };
    if ('scratch' in operand) return scratchRefs.get(operand)!;
    return { buffer: DUMMY, offset: 0, size: 16 };
  };
  const dispatches = lowered.map(({ label, dispatch }, i): PlannedDispatch => {
    const layout = kernels[dispatch.kernel].params;
    layout.pack(dispatch.params, uniformData, i * UNIFORM_STRIDE);
    return {
      label,
      kernel: dispatch.kernel,
      constants: dispatch.constants,
      bindings: [...dispatch.operands.map(resolve), { buffer: UNIFORMS, offset: i * UNIFORM_STRIDE, size: layout.byteSize }],
      workgroups: dispatch.workgroups,
    };
  });
  return { buffers, uniformData, dispatches, refs };
}

/** A human-readable listing (the `--print-plan` output and the plan snapshot test). */
export function formatPlan(plan: Plan): string {
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const lines = [`buffers (${plan.buffers.length}, ${kib(plan.buffers.reduce((s, b) => s + b.bytes, 0))}):`];
  for (const b of plan.buffers) lines.push(`  ${b.name.padEnd(10)} ${kib(b.bytes)}`);
  lines.push(`dispatches (${plan.dispatches.length}):`);
  plan.dispatches.forEach((d, i) => {
    const flags = Object.entries(d.constants)
      .filter(([, v]) => v !== false && v !== 0)
      .map(([k, v]) => (v === true ? k : `${k}=${v}`))
      .join(' ');
    const binds = d.bindings.map((b) => (b.offset ? `${b.buffer}+${b.offset}` : b.buffer)).join(', ');
    lines.push(`  ${String(i).padStart(2)} ${d.kernel.padEnd(18)} [${d.workgroups.join('×')}] ${flags ? `{${flags}} ` : ''}(${binds})  ${d.label}`);
  });
  return lines.join('\n');
}
