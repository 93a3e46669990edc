/**
 * Matmul autotuning. Lowering emits every matmul as the reference kernel (`matmul`, 8×8 workgroups), and a
 * plan is plain data, so tuning is a pass over a finished plan: `tuneMatmuls(resources, plan)` finds each
 * matmul dispatch, reads its M, N, K from the plan's packed Params and its flags from its constants, and
 * rewrites the dispatch's kernel, constants and workgroup count to the fastest variant for that shape on this
 * adapter (src/kernels/matmul_variants.ts). Buffers, bindings and uniforms stay as they are.
 *
 * Choosing a variant for one (shape, flags):
 *   1. candidates: the variants that fit the shape and flags and whose vec4 bindings are 16-byte aligned
 *      in the plan;
 *   2. the reference runs once on random inputs; every candidate then runs once with its output poisoned
 *      (NaN) and is dropped unless it matches (relative L2 error ≤ 1e-4, nothing left unwritten) or fails
 *      to compile;
 *   3. the survivors are timed in interleaved rounds, each sample several back-to-back dispatches in one
 *      pass, timed by timestamp queries when the device has them and by wall time around
 *      `onSubmittedWorkDone()` otherwise; a candidate's time is its fastest sample (interference from other
 *      work only ever adds time), and one twice as slow as the best after the first round is dropped.
 *      This runs in two stages, each family's leader first, then the rest of the fastest family, so that
 *      few pipelines are compiled;
 *   4. the fastest wins, ties to the earlier (simpler) variant.
 * Choices are cached per adapter + shape + constants: in memory for the process, in localStorage in
 * browsers, and in Node in a JSON file (~/.cache/webgrad/autotune.json, or the file WEBGRAD_AUTOTUNE_CACHE
 * names; 'off' for none). WEBGRAD_AUTOTUNE_LOG=1 prints each choice; WEBGRAD_AUTOTUNE=0 turns tuning off.
 * Tuning runs are serialised per device, so two plans being built at once never time each other.
 * `adoptMatmulVariants` gives a plan of the same graph at another batch size (the last partial batch) the
 * variants of a tuned one without timing anything.
 *
 * On SwiftShader every variant sums in the reference's order, so the choice never changes a result there
 * (test/kernels/matmul_variants.test.ts checks it bit for bit).
 */
import type { GpuResources } from '../gpu/resources';
import { readBuffer } from '../gpu/readback';
import { TimestampProfiler } from '../gpu/profiler';
import type { Plan, PlannedDispatch } from '../scheduler/plan';
import { kernels } from './catalog';
import type { Constants } from './kernel';
import {
  REFERENCE_MATMUL,
  candidateVariants,
  matmulKernelNames,
  matmulVariants,
  variantById,
  variantConstants,
  variantWorkgroups,
  type MatmulFlags,
  type MatmulShape,
  type MatmulVariant,
} from './matmul_variants';

export interface AutotuneOptions {
  /** Matmuls with fewer floating-point operations (2·M·N·K) keep the reference kernel untimed (default 2e5). */
  minFlops?: number;
  /** Timing rounds per candidate (default 5). */
  rounds?: number;
  /** Each sample runs the dispatch until about this much GPU time has passed (default 8 ms). */
  sampleMs?: number;
  /** Timing rounds stop (after at least three) once a stage has taken this long (default 1500 ms). */
  budgetMs?: number;
  /** Time every candidate for every round in one stage, with no early drops or budget (benchmarks). */
  exhaustive?: boolean;
  /** Where choices persist beyond this process (default: localStorage in browsers, a JSON file in Node; see fileStore). */
  store?: AutotuneStore;
  /** Restrict the candidates (tests, benchmarks). */
  candidates?: (shape: MatmulShape, flags: MatmulFlags) => readonly MatmulVariant[];
  /** Reports every choice (e.g. console.log). */
  log?: (message: string) => void;
}

/** Persistent choices: variant ids by key. */
export interface AutotuneStore {
  get(key: string): string | undefined;
  set(key: string, variantId: string): void;
}

export interface CandidateResult {
  variant: MatmulVariant;
  /** False when the candidate failed to compile or its output differed from the reference. */
  verified: boolean;
  /** False when this adapter could not compile it (its error is then Infinity too). */
  compiled: boolean;
  /** Relative L2 error against the reference (Infinity if it left output unwritten or failed). */
  error: number;
  /** Fastest sample, milliseconds per dispatch (undefined if not timed). */
  milliseconds?: number;
  /** How its time was taken. */
  timer?: 'timestamp' | 'wall';
}

export interface TuneResult {
  key: string;
  shape: MatmulShape;
  chosen: MatmulVariant;
  results: CandidateResult[];
  /** Wall time the tuning took (compiling, verifying, timing). */
  milliseconds: number;
}

/** Bumped whenever the variants or their meaning change, so persisted choices from older code are ignored. */
const CACHE_VERSION = 1;
const TOLERANCE = 1e-4;

const memory = new Map<string, Promise<string>>();
const queues = new WeakMap<GPUDevice, Promise<unknown>>();

/** Forgets every in-memory choice (tests). */
export function clearAutotuneCache(): void {
  memory.clear();
}

/** The in-memory choices made so far, by key (for inspection and tests). */
export async function autotuneChoices(): Promise<Map<string, string>> {
  const entries = await Promise.all([...memory].map(async ([k, v]) => [k, await v.catch(() => '')] as const));
  return new Map(entries.filter(([, v]) => v));
}

const matmulParamFields: string[] = kernels.matmul.params.fields.map(([name]) => name);

/** M, N, K and alpha of a planned matmul dispatch, read back from the plan's packed Params. */
export function matmulParamsOf(plan: Plan, dispatch: PlannedDispatch): MatmulShape & { alpha: number } {
  const params = dispatch.bindings[dispatch.bindings.length - 1];
  const view = new DataView(plan.uniformData, params.offset, kernels.matmul.params.byteSize);
  const u32 = (name: string) => view.getUint32(4 * matmulParamFields.indexOf(name), true);
  return { M: u32('M'), N: u32('N'), K: u32('K'), alpha: view.getFloat32(4 * matmulParamFields.indexOf('alpha'), true) };
}

const flagsOf = (constants: Constants): MatmulFlags => ({ transA: !!constants.TRANS_A, transB: !!constants.TRANS_B });

/** The seven standard constants, without the workgroup size and variant extras. */
function baseConstants(constants: Constants): Constants {
  const { TRANS_A, TRANS_B, BIAS, ACT, ACT_GRAD } = constants;
  return { TRANS_A: !!TRANS_A, TRANS_B: !!TRANS_B, BIAS: !!BIAS, ACT: Number(ACT ?? 0), ACT_GRAD: Number(ACT_GRAD ?? 0) };
}

export function tuneKey(adapterName: string, shape: MatmulShape, constants: Constants): string {
  const c = baseConstants(constants);
  const flags = Object.entries(c)
    .map(([k, v]) => `${k}=${Number(v)}`)
    .join(',');
  return `v${CACHE_VERSION}|${adapterName}|${shape.M}x${shape.N}x${shape.K}|${flags}`;
}

/** Candidates for a planned dispatch: they fit the shape and flags, and their vec4 bindings are aligned. */
function candidatesFor(shape: MatmulShape, flags: MatmulFlags, bindings: PlannedDispatch['bindings'] | undefined, options: AutotuneOptions): MatmulVariant[] {
  const all = options.candidates?.(shape, flags) ?? candidateVariants(shape, flags);
  const aligned = (v: MatmulVariant) => !bindings || v.vec4Bindings.every((i) => bindings[i].offset % 16 === 0 && bindings[i].size % 16 === 0);
  const list = all.filter((v) => v.fits(shape, flags) && aligned(v));
  return list.some((v) => v.id === REFERENCE_MATMUL.id) ? list : [REFERENCE_MATMUL, ...list];
}

/**
 * Rewrites every reference matmul dispatch of `plan` to its tuned variant. Returns a new plan sharing the
 * buffers, uniforms and refs of the old one; dispatches other than matmuls are returned as they are.
 */
export async function tuneMatmuls(resources: GpuResources, plan: Plan, options: AutotuneOptions = {}): Promise<Plan> {
  // WEBGRAD_AUTOTUNE=0 (Node) keeps the reference kernel everywhere, for A/B comparisons.
  if (nodeProcess?.env?.WEBGRAD_AUTOTUNE === '0') return plan;
  const dispatches: PlannedDispatch[] = [];
  for (const dispatch of plan.dispatches) {
    if (dispatch.kernel !== REFERENCE_MATMUL.kernel) {
      dispatches.push(dispatch);
      continue;
    }
    const shape = matmulParamsOf(plan, dispatch);
    const variant = await chooseMatmul(resources, shape, dispatch.constants, dispatch.bindings, options);
    dispatches.push(withVariant(dispatch, variant, shape));
  }
  return { ...plan, dispatches };
}

/** A planned matmul dispatch running `variant` instead: its kernel, constants and workgroup count. */
function withVariant(dispatch: PlannedDispatch, variant: MatmulVariant, shape: MatmulShape): PlannedDispatch {
  if (variant.id === REFERENCE_MATMUL.id && sameWorkgroup(dispatch.constants, variant)) return dispatch;
  return { ...dispatch, kernel: variant.kernel, constants: variantConstants(variant, baseConstants(dispatch.constants)), workgroups: variantWorkgroups(variant, shape) };
}

/**
 * Gives `target`'s reference matmuls the variants `source` (a tuned plan of the same graph, e.g. the
 * full-batch plan when `target` is the last partial batch's) chose for its dispatch at the same position
 * and label, where that variant fits `target`'s shape and alignment; the others keep the reference. Nothing
 * is timed, so a plan that runs once an epoch costs no tuning.
 */
export function adoptMatmulVariants(source: Plan, target: Plan): Plan {
  const dispatches = target.dispatches.map((dispatch, i) => {
    const tuned = source.dispatches[i];
    if (dispatch.kernel !== REFERENCE_MATMUL.kernel || !tuned || tuned.label !== dispatch.label || !matmulKernelNames.has(tuned.kernel)) return dispatch;
    const variant = matmulVariants.find((v) => v.kernel === tuned.kernel && variantConstantsMatch(v, tuned.constants));
    const shape = matmulParamsOf(target, dispatch);
    if (!variant || !candidatesFor(shape, flagsOf(dispatch.constants), dispatch.bindings, {}).includes(variant)) return dispatch;
    return withVariant(dispatch, variant, shape);
  });
  return { ...target, dispatches };
}

/** Whether planned constants are this variant's: its workgroup size, and its extras and no others. */
function variantConstantsMatch(v: MatmulVariant, constants: Constants): boolean {
  const standard = new Set(['TRANS_A', 'TRANS_B', 'BIAS', 'ACT', 'ACT_GRAD', 'WG_X', 'WG_Y']);
  const extras = new Set([...Object.keys(v.extra), ...Object.keys(constants).filter((k) => !standard.has(k))]);
  return sameWorkgroup(constants, v) && [...extras].every((k) => Number(constants[k] ?? 0) === Number(v.extra[k] ?? 0));
}

const sameWorkgroup = (constants: Constants, v: MatmulVariant) => constants.WG_X === v.workgroup[0] && constants.WG_Y === v.workgroup[1];

/** Whether a planned dispatch runs a matmul (reference or variant). */
export function isMatmulDispatch(dispatch: PlannedDispatch): boolean {
  return matmulKernelNames.has(dispatch.kernel);
}

/** The variant for one matmul: cached, or tuned now (serialised with every other tuning run on this device). */
export async function chooseMatmul(
  resources: GpuResources,
  shape: MatmulShape,
  constants: Constants,
  bindings?: PlannedDispatch['bindings'],
  options: AutotuneOptions = {},
): Promise<MatmulVariant> {
  const flags = flagsOf(constants);
  const candidates = candidatesFor(shape, flags, bindings, options);
  if (candidates.length === 1 || 2 * shape.M * shape.N * shape.K < (options.minFlops ?? 2e5)) return REFERENCE_MATMUL;
  const key = tuneKey(resources.gpu.adapterName, shape, constants);
  const usable = (id: string | undefined) => candidates.find((v) => v.id === id);

  let pending = memory.get(key);
  if (!pending) {
    const store = options.store ?? defaultStore();
    const stored = usable(store?.get(key));
    pending = stored
      ? Promise.resolve(stored.id)
      : serialise(resources.device, () => tuneMatmul(resources, shape, constants, candidates, options)).then((result) => {
          store?.set(key, result.chosen.id);
          (options.log ?? envLog())?.(formatChoice(result));
          return result.chosen.id;
        });
    memory.set(key, pending);
    // A failed run is not cached: the next plan tries again.
    pending.catch(() => memory.delete(key));
  }
  // A cached choice from a run with other candidates (other options, other alignment) may not fit here.
  return usable(await pending) ?? REFERENCE_MATMUL;
}

function serialise<T>(device: GPUDevice, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(device) ?? Promise.resolve();
  const next = previous.then(task, task);
  queues.set(device, next.catch(() => undefined));
  return next;
}

export function formatChoice(result: TuneResult): string {
  const { M, N, K } = result.shape;
  const timed = result.results
    .filter((r) => r.milliseconds !== undefined)
    .sort((a, b) => a.milliseconds! - b.milliseconds!)
    .map((r) => `${r.variant.id} ${r.milliseconds!.toFixed(3)} ms`);
  const rejected = result.results.filter((r) => !r.verified).map((r) => r.variant.id);
  return `autotune ${M}×${N}×${K} ${result.key.split('|').at(-1)}: ${result.chosen.id} in ${(result.milliseconds / 1000).toFixed(1)} s (${timed.join(', ')}${rejected.length ? `; rejected ${rejected.join(', ')}` : ''})`;
}

/** Deterministic inputs in [-1, 1). */
function pseudoRandom(count: number, seed: number): Float32Array {
  const out = new Float32Array(Math.max(4, Math.ceil(count / 4) * 4));
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

export function relativeL2(out: Float32Array, ref: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(out[i])) return Infinity;
    diff += (out[i] - ref[i]) ** 2;
    norm += ref[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
}

/**
 * Verifies and times `candidates` for one shape on synthetic buffers (nothing of a plan is touched) and
 * returns every candidate's result and the fastest verified one. Exported for tests and benchmarks; use
 * `chooseMatmul` or `tuneMatmuls` to get the cached choice.
 */
export async function tuneMatmul(
  resources: GpuResources,
  shape: MatmulShape,
  constants: Constants,
  candidates: readonly MatmulVariant[],
  options: AutotuneOptions = {},
): Promise<TuneResult> {
  const began = performance.now();
  const { M, N, K } = shape;
  const base = baseConstants(constants);
  const device = resources.device;
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const eCount = base.ACT_GRAD ? M * N : base.BIAS ? N : 4;
  const created: GPUBuffer[] = [];
  const storageOf = (label: string, data: Float32Array) => {
    const buffer = resources.createStorage(`autotune.${label}`, data);
    created.push(buffer);
    return buffer;
  };
  const a = storageOf('A', pseudoRandom(M * K, 1));
  const b = storageOf('B', pseudoRandom(K * N, 2));
  // For ACT_GRAD, E is an activation's output; values in [-1, 1) exercise both branches of every derivative.
  const e = storageOf('E', pseudoRandom(eCount, 3));
  const c = resources.createBuffer('autotune.C', M * N * 4, storage);
  created.push(c);
  const uniform = resources.createBuffer('autotune.params', kernels.matmul.params.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  created.push(uniform);
  device.queue.writeBuffer(uniform, 0, kernels.matmul.params.pack({ M, N, K, alpha: 0.1 }));
  const poison = new Float32Array(M * N).fill(NaN);
  const profiler = resources.gpu.hasTimestamps ? new TimestampProfiler(resources, 1) : undefined;

  interface Prepared {
    variant: MatmulVariant;
    pipeline: GPUComputePipeline;
    bindGroup: GPUBindGroup;
    workgroups: [number, number, number];
    samples: number[];
    timer?: 'timestamp' | 'wall';
  }
  const prepare = async (variant: MatmulVariant): Promise<Prepared> => {
    const kernel = kernels[variant.kernel];
    const pipeline = await resources.pipeline(kernel, variantConstants(variant, base));
    const bindGroup = resources.createBindGroup(kernel, `autotune ${variant.id}`, [a, b, e, c, uniform].map((buffer) => ({ buffer, offset: 0, size: buffer.size })));
    return { variant, pipeline, bindGroup, workgroups: variantWorkgroups(variant, shape), samples: [] };
  };
  const encode = (p: Prepared, reps: number, descriptor?: GPUComputePassDescriptor): GPUCommandEncoder => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass(descriptor);
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, p.bindGroup);
    for (let i = 0; i < reps; i++) pass.dispatchWorkgroups(...p.workgroups);
    pass.end();
    return encoder;
  };
  const output = async (p: Prepared): Promise<Float32Array> => {
    device.queue.writeBuffer(c, 0, poison);
    device.queue.submit([encode(p, 1).finish()]);
    return new Float32Array(await readBuffer(resources, c, 0, M * N * 4));
  };
  /** Milliseconds per dispatch for one sample of `reps` dispatches. */
  const sample = async (p: Prepared, reps: number): Promise<number> => {
    await device.queue.onSubmittedWorkDone();
    const encoder = encode(p, reps, profiler?.pass(0));
    const start = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    const wall = (performance.now() - start) / reps;
    if (profiler) {
      const gpu = (await profiler.read(device.createCommandEncoder(), 1))[0] / reps;
      // Some implementations quantise or zero timestamps; fall back to the wall clock then.
      if (gpu > 0 && gpu <= wall * 1.5 + 1) {
        p.timer = 'timestamp';
        return gpu;
      }
    }
    p.timer = 'wall';
    return wall;
  };

  const results = new Map<MatmulVariant, CandidateResult>();
  try {
    const reference = await prepare(REFERENCE_MATMUL);
    const expected = await output(reference);
    if (relativeL2(expected, expected) !== 0) throw new Error(`autotune: the reference matmul produced non-finite values for ${M}×${N}×${K}`);

    const prepared: Prepared[] = [];
    /** Compiles (in parallel) and verifies (one by one) a stage's variants; returns those that match the reference. */
    const verify = async (variants: readonly MatmulVariant[]): Promise<Prepared[]> => {
      // A variant this adapter cannot compile rejects its promise; the scope keeps its error from being uncaptured.
      device.pushErrorScope('validation');
      const settled = await Promise.allSettled(variants.map((v) => (v.id === REFERENCE_MATMUL.id ? Promise.resolve(reference) : prepare(v))));
      const scoped = await device.popErrorScope();
      if (scoped && settled.every((s) => s.status === 'fulfilled')) throw new Error(`autotune: ${scoped.message}`);
      const passed: Prepared[] = [];
      for (const [i, s] of settled.entries()) {
        const error = s.status === 'rejected' ? Infinity : s.value === reference ? 0 : relativeL2(await output(s.value), expected);
        const ok = s.status === 'fulfilled' && error <= TOLERANCE;
        results.set(variants[i], { variant: variants[i], verified: ok, compiled: s.status === 'fulfilled', error });
        if (ok) passed.push((s as PromiseFulfilledResult<Prepared>).value);
      }
      for (const p of passed) if (!prepared.includes(p)) prepared.push(p);
      resources.gpu.check();
      return passed;
    };
    const best = (list: readonly Prepared[]) => list.reduce((a, b) => (Math.min(...b.samples) < Math.min(...a.samples) ? b : a));

    // Repetitions per sample from one warm-up run of the reference, so a sample lasts about sampleMs.
    const warm = await sample(reference, 1);
    const reps = Math.max(1, Math.min(64, Math.round((options.sampleMs ?? 8) / Math.max(warm, 1e-3))));
    const rounds = options.rounds ?? 5;
    /**
     * Interleaved rounds. After the first, a candidate twice as slow as the best so far stops being timed;
     * after the third, rounds stop once the stage has used its time budget.
     */
    const time = async (list: readonly Prepared[]): Promise<void> => {
      let alive = list;
      const start = performance.now();
      for (let round = 0; round < rounds; round++) {
        for (const p of alive) p.samples.push(await sample(p, reps));
        if (round === 0 && !options.exhaustive) {
          const fastest = Math.min(...alive.map((p) => Math.min(...p.samples)));
          alive = alive.filter((p) => Math.min(...p.samples) <= fastest * 2);
        }
        if (round >= 2 && !options.exhaustive && performance.now() - start > (options.budgetMs ?? 1500)) break;
      }
    };

    // Stage 1: the reference and each family's leader. Stage 2: the rest of the fastest family, timed
    // against the stage-1 winner again so both are compared under the same conditions.
    const leaders = options.exhaustive
      ? candidates
      : candidates.filter((v, i) => v.id === REFERENCE_MATMUL.id || candidates.findIndex((w) => w.family === v.family) === i);
    const first = await verify(leaders.some((v) => v.id === REFERENCE_MATMUL.id) ? leaders : [REFERENCE_MATMUL, ...leaders]);
    await time(first);
    let chosen = best(first);
    const siblings = candidates.filter((v) => v.family === chosen.variant.family && !results.has(v));
    if (siblings.length) {
      const second = await verify(siblings);
      await time([chosen, ...second]);
      chosen = best([chosen, ...second]);
    }
    for (const p of prepared.filter((p) => p.samples.length > 0)) {
      results.get(p.variant)!.milliseconds = Math.min(...p.samples);
      results.get(p.variant)!.timer = p.timer;
    }
    return { key: tuneKey(resources.gpu.adapterName, shape, constants), shape, chosen: chosen.variant, results: [...results.values()], milliseconds: performance.now() - began };
  } finally {
    await device.queue.onSubmittedWorkDone();
    profiler?.destroy();
    created.forEach((buffer) => resources.destroyBuffer(buffer));
  }
}

type Env = { env?: Record<string, string | undefined>; getBuiltinModule?: (name: string) => unknown; pid?: number };
const nodeProcess = (globalThis as { process?: Env }).process;

/** WEBGRAD_AUTOTUNE_LOG=1 prints every choice (Node). */
function envLog(): ((message: string) => void) | undefined {
  return nodeProcess?.env?.WEBGRAD_AUTOTUNE_LOG ? (message) => console.log(message) : undefined;
}

/** localStorage in browsers; in Node a JSON file (see fileStore). */
let fallbackStore: AutotuneStore | null | undefined;

function defaultStore(): AutotuneStore | undefined {
  if (fallbackStore === undefined) fallbackStore = localStorageStore() ?? fileStore() ?? null;
  return fallbackStore ?? undefined;
}

function localStorageStore(): AutotuneStore | undefined {
  try {
    const storage = (globalThis as { localStorage?: Storage }).localStorage;
    if (!storage) return undefined;
    const prefix = 'webgrad.autotune.';
    return {
      get: (key) => storage.getItem(prefix + key) ?? undefined,
      set: (key, id) => {
        try {
          storage.setItem(prefix + key, id);
        } catch {
          // Quota or privacy mode: the in-memory cache still holds it.
        }
      },
    };
  } catch {
    return undefined;
  }
}

interface NodeFs {
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, data: string): void;
  renameSync(from: string, to: string): void;
  mkdirSync(path: string, options: { recursive: true }): void;
}

/**
 * Node: a JSON file of choices, so a process does not tune again what an earlier one did on this machine.
 * WEBGRAD_AUTOTUNE_CACHE names the file ('off' for none); the default is webgrad/autotune.json in
 * $XDG_CACHE_HOME or ~/.cache. Entries are keyed by CACHE_VERSION and the adapter, and a stored id is used
 * only where that variant is a candidate (it fits the shape and the plan's alignment).
 */
function fileStore(): AutotuneStore | undefined {
  const proc = nodeProcess;
  // process.getBuiltinModule (Node ≥ 20.16) keeps this synchronous and invisible to browser bundlers.
  const fs = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  const os = proc?.getBuiltinModule?.('node:os') as { homedir(): string } | undefined;
  const env = proc?.env ?? {};
  if (!fs || env.WEBGRAD_AUTOTUNE_CACHE === 'off' || env.WEBGRAD_AUTOTUNE_CACHE === '0') return undefined;
  let dir: string | undefined;
  let file = env.WEBGRAD_AUTOTUNE_CACHE;
  if (!file) {
    const base = env.XDG_CACHE_HOME || (os ? `${os.homedir()}/.cache` : undefined);
    if (!base) return undefined;
    dir = `${base}/webgrad`;
    file = `${dir}/autotune.json`;
  }
  const path = file;
  const load = (): Record<string, string> => {
    try {
      return JSON.parse(fs.readFileSync(path, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  return {
    get: (key) => load()[key],
    set: (key, id) => {
      try {
        if (dir) fs.mkdirSync(dir, { recursive: true });
        const all = { ...load(), [key]: id };
        const tmp = `${path}.${proc?.pid ?? 0}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(all, null, 1));
        fs.renameSync(tmp, path);
      } catch {
        // Unwritable: the in-memory cache still holds it.
      }
    },
  };
}

/** The variant a cached id names, for callers that persist choices themselves. */
export { variantById };
