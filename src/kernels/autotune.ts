/**
 * Matmul autotuning: fills a tuning table (src/kernels/matmul_select.ts) for the products a plan needs.
 *
 *   tuneMatmuls(resources, requests, { table, store, ... }) → table
 *
 * For each product the table lacks:
 *   1. candidates: src/kernels/matmul_policy.ts (every variant that fits and suits the adapter; no pruning);
 *   2. the candidates of every pending product are compiled first, in parallel, so no compilation runs
 *      while anything is timed;
 *   3. on synthetic inputs (src/kernels/matmul_verify.ts) the reference runs once, then every candidate with
 *      its output poisoned; one that differs from the reference beyond `verifyTolerance`, leaves an
 *      element unwritten, or fails to compile is dropped;
 *   4. the survivors are timed (src/gpu/timing.ts) in interleaved rounds, each sample long enough to resolve
 *      the clock; a candidate's time is its fastest sample; one twice as slow as the best after the first
 *      round stops being timed, and rounds stop after the second once the product's budget is spent;
 *   5. the fastest wins (ties to the earlier, simpler variant).
 * Products with fewer than `minFlops` floating-point operations, or one candidate, get the reference untimed.
 *
 * Entries of `options.table` (a checkpoint's) are kept as they are; a `store` (the host's) is read first
 * and given the new choices; choices made on a device are remembered for the process, and tuning runs are
 * serialised per device, so two plans being built at once never time each other.
 *
 * On SwiftShader every variant except split-K sums in the reference's order, so the choice never changes
 * a result there; split-K sums each K range and then the ranges (test/kernels/matmul_tiled.test.ts).
 */
import type { GpuResources } from '../gpu/resources';
import { DispatchTimer, type Clock, type Measurement, type TimingOptions } from '../gpu/timing';
import { kernels } from './catalog';
import { adapterKindOf, type AdapterKind } from '../gpu/adapter_kind';
import { candidateVariants } from './matmul_policy';
import { tuningKey, type MatmulRequest, type TuningTable } from './matmul_select';
import { REFERENCE_MATMUL, variantSteps, type MatmulVariant } from './matmul_variants';
import { MatmulTrial, compareOutputs, type PreparedSelection } from './matmul_verify';
import { tuningStoreKey, type TuningStore } from './tuning_store';

export interface AutotuneOptions {
  /** Choices that stand as they are (e.g. the table a checkpoint was trained with). */
  table?: TuningTable;
  /** Where the host keeps tables between runs (see src/kernels/tuning_store.ts). None: memory only. */
  store?: TuningStore;
  /** Products with fewer floating-point operations (2·M·N·K) keep the reference untimed (default 2e5). */
  minFlops?: number;
  /** Timing rounds per product (default 5). */
  rounds?: number;
  /** After the second round, stop a product's rounds once its timing has taken this long (default 1500 ms). */
  budgetMs?: number;
  /** Time every candidate for every round, with no early drops and no budget (benchmarks). */
  exhaustive?: boolean;
  /** The clock and sample length (src/gpu/timing.ts). */
  timing?: TimingOptions;
  /** 'cpu' or 'gpu' candidates (default: from the adapter's name, see matmul_policy.ts). */
  adapterKind?: AdapterKind;
  /** Replace the policy's candidates (tests, benchmarks). */
  candidates?: (request: MatmulRequest) => readonly MatmulVariant[];
  /** Reports every product tuned (e.g. console.log). */
  log?: (message: string) => void;
}

export interface CandidateResult {
  variant: MatmulVariant;
  /** False when this adapter could not compile it. */
  compiled: boolean;
  /** False when it failed to compile or its output differed from the reference. */
  verified: boolean;
  /** Its worst element's distance from the reference's, in units of the verification bound (≤ 1 passes). */
  error: number;
  /** Fastest sample, milliseconds per product (undefined if not timed). */
  milliseconds?: number;
  /** Repetitions per sample, and the clock they were timed by. */
  reps?: number;
  clock?: Clock['kind'];
}

export interface ProductTuning {
  key: string;
  request: MatmulRequest;
  chosen: MatmulVariant;
  results: CandidateResult[];
  /** Wall time of verifying and timing (compilation excluded when it ran ahead, as in tuneMatmuls). */
  milliseconds: number;
}

interface DeviceState {
  choices: Map<string, Promise<string>>;
  queue: Promise<unknown>;
  clock?: Clock;
}
const devices = new WeakMap<GPUDevice, DeviceState>();

function stateOf(device: GPUDevice): DeviceState {
  let state = devices.get(device);
  if (!state) devices.set(device, (state = { choices: new Map(), queue: Promise.resolve() }));
  return state;
}

/** The choices made on this device in this process, by product key. */
export async function autotuneChoices(resources: GpuResources): Promise<TuningTable> {
  const entries = await Promise.all([...stateOf(resources.device).choices].map(async ([k, v]) => [k, await v.catch(() => '')] as const));
  return Object.fromEntries(entries.filter(([, v]) => v));
}

/** Forgets this device's in-process choices (tests). */
export function clearAutotuneCache(resources: GpuResources): void {
  stateOf(resources.device).choices.clear();
}

const flops = ({ shape: { M, N, K } }: MatmulRequest) => 2 * M * N * K;

/** The policy's candidates (or the options'), the reference always among them. */
function candidatesFor(resources: GpuResources, request: MatmulRequest, options: AutotuneOptions): readonly MatmulVariant[] {
  if (options.candidates) {
    const list = options.candidates(request);
    return list.some((v) => v.id === REFERENCE_MATMUL.id) ? list : [REFERENCE_MATMUL, ...list];
  }
  return candidateVariants(request.shape, request.constants, request.alignment, options.adapterKind ?? adapterKindOf(resources.gpu.adapterName));
}

/**
 * A table with a variant for every request: `options.table`'s entries, then this process's and the
 * store's choices where they are candidates, then new tuning for the rest (written back to the store).
 */
export async function tuneMatmuls(resources: GpuResources, requests: readonly MatmulRequest[], options: AutotuneOptions = {}): Promise<TuningTable> {
  const state = stateOf(resources.device);
  const adapterKey = tuningStoreKey(resources.gpu.adapterName);
  const stored = (await options.store?.get(adapterKey)) ?? {};
  const table: TuningTable = { ...options.table };
  const fresh: TuningTable = {};
  const pending = new Map<string, { request: MatmulRequest; candidates: readonly MatmulVariant[] }>();
  const waits: Promise<void>[] = [];

  for (const request of requests) {
    const key = tuningKey(request.shape, request.constants, request.alignment);
    if (table[key] || pending.has(key)) continue;
    const candidates = candidatesFor(resources, request, options);
    const known = state.choices.get(key);
    if (known) {
      waits.push(known.then((id) => void (table[key] = id)));
      continue;
    }
    const storedVariant = candidates.find((v) => v.id === stored[key]);
    if (storedVariant || candidates.length === 1 || flops(request) < (options.minFlops ?? 2e5)) {
      table[key] = (storedVariant ?? REFERENCE_MATMUL).id;
      state.choices.set(key, Promise.resolve(table[key]));
      continue;
    }
    pending.set(key, { request, candidates });
  }

  if (pending.size) {
    const run = serialise(state, async () => {
      await compileAll(resources, [...pending.values()]);
      const ids = new Map<string, string>();
      for (const [key, { request, candidates }] of pending) {
        const result = await tuneProduct(resources, request, candidates, options);
        options.log?.(formatTuning(result));
        ids.set(key, result.chosen.id);
      }
      return ids;
    });
    for (const key of pending.keys()) {
      const choice = run.then((ids) => ids.get(key)!);
      state.choices.set(key, choice);
      // A failed run is not remembered: the next plan tries again.
      choice.catch(() => state.choices.delete(key));
      waits.push(choice.then((id) => void (table[key] = fresh[key] = id)));
    }
  }
  await Promise.all(waits);
  if (options.store && Object.keys(fresh).length) {
    const latest = (await options.store.get(adapterKey)) ?? {};
    await options.store.set(adapterKey, { ...latest, ...fresh });
  }
  return table;
}

function serialise<T>(state: DeviceState, task: () => Promise<T>): Promise<T> {
  const next = state.queue.then(task, task);
  state.queue = next.catch(() => undefined);
  return next;
}

/** Compiles every candidate's pipelines of every product at once (failures are left to verification). */
async function compileAll(resources: GpuResources, products: readonly { request: MatmulRequest; candidates: readonly MatmulVariant[] }[]): Promise<void> {
  const device = resources.device;
  device.pushErrorScope('validation');
  await Promise.allSettled(
    products.flatMap(({ request, candidates }) =>
      candidates.flatMap((v) => variantSteps(v, request.shape, request.constants).steps.map((s) => resources.pipeline(kernels[s.kernel], s.constants))),
    ),
  );
  await device.popErrorScope();
}

/**
 * Verifies and times `candidates` for one product on synthetic buffers and returns every candidate's
 * result and the fastest verified one. For tests and benchmarks; plans get theirs from `tuneMatmuls`.
 */
export async function tuneProduct(resources: GpuResources, request: MatmulRequest, candidates: readonly MatmulVariant[], options: AutotuneOptions = {}): Promise<ProductTuning> {
  const began = performance.now();
  const { shape, constants } = request;
  const device = resources.device;
  const state = stateOf(device);
  const trial = new MatmulTrial(resources, shape, constants);
  const results = new Map<MatmulVariant, CandidateResult>();
  let timer: DispatchTimer | undefined;
  try {
    const reference = await trial.prepare(variantSteps(REFERENCE_MATMUL, shape, constants));
    const expected = await trial.output(reference);
    if (!expected.every(Number.isFinite)) throw new Error(`autotune: the reference matmul produced non-finite values for ${shape.M}×${shape.N}×${shape.K}`);

    // A variant this adapter cannot compile rejects its promise; the scope keeps its error from being uncaptured.
    device.pushErrorScope('validation');
    const settled = await Promise.allSettled(candidates.map((v) => (v.id === REFERENCE_MATMUL.id ? Promise.resolve(reference) : trial.prepare(variantSteps(v, shape, constants)))));
    const scoped = await device.popErrorScope();
    if (scoped && settled.every((s) => s.status === 'fulfilled')) throw new Error(`autotune: ${scoped.message}`);
    const verified: { variant: MatmulVariant; prepared: PreparedSelection; samples: number[]; reps: number }[] = [];
    for (const [i, s] of settled.entries()) {
      const variant = candidates[i];
      const error = s.status === 'rejected' ? Infinity : s.value === reference ? 0 : compareOutputs(await trial.output(s.value), expected, shape.K).worst;
      const ok = s.status === 'fulfilled' && error <= 1;
      results.set(variant, { variant, compiled: s.status === 'fulfilled', verified: ok, error });
      if (ok) verified.push({ variant, prepared: s.value, samples: [], reps: 1 });
    }
    resources.gpu.check();

    timer = await DispatchTimer.create(resources, reference.record, options.timing, state.clock);
    state.clock = timer.clock;
    const timingStart = performance.now();
    const rounds = options.rounds ?? 5;
    let alive = verified;
    let reps = 1;
    for (let round = 0; round < rounds; round++) {
      for (const candidate of alive) {
        if (round === 0) {
          // The first sample finds the repetitions that resolve the clock, starting from the previous candidate's.
          const first: Measurement = await timer.measure(candidate.prepared.record, reps);
          candidate.reps = reps = first.reps;
          candidate.samples.push(first.msPerRep);
        } else {
          candidate.samples.push(await timer.sample(candidate.prepared.record, candidate.reps));
        }
      }
      if (options.exhaustive) continue;
      if (round === 0) {
        const fastest = Math.min(...alive.map((c) => Math.min(...c.samples)));
        alive = alive.filter((c) => Math.min(...c.samples) <= fastest * 2);
      }
      if (round >= 1 && performance.now() - timingStart > (options.budgetMs ?? 1500)) break;
    }
    let chosen = verified[0];
    for (const candidate of verified) {
      const result = results.get(candidate.variant)!;
      result.milliseconds = Math.min(...candidate.samples);
      result.reps = candidate.reps;
      result.clock = timer.clock.kind;
      if (result.milliseconds < Math.min(...chosen.samples)) chosen = candidate;
    }
    const key = tuningKey(shape, constants, request.alignment);
    return { key, request, chosen: chosen.variant, results: [...results.values()], milliseconds: performance.now() - began };
  } finally {
    await device.queue.onSubmittedWorkDone();
    timer?.destroy();
    trial.destroy();
  }
}

/** One line: the product, the winner, the time it took, every candidate's time, the rejected ones. */
export function formatTuning(result: ProductTuning): string {
  const { M, N, K } = result.request.shape;
  const timed = result.results
    .filter((r) => r.milliseconds !== undefined)
    .sort((a, b) => a.milliseconds! - b.milliseconds!)
    .map((r) => `${r.variant.id} ${r.milliseconds!.toFixed(3)} ms`);
  const rejected = result.results.filter((r) => !r.verified).map((r) => `${r.variant.id}${r.compiled ? '' : ' (compile)'}`);
  const flags = result.key.split('|')[1];
  return `autotune ${M}×${N}×${K} ${flags}: ${result.chosen.id} in ${(result.milliseconds / 1000).toFixed(1)} s (${timed.join(', ')}${rejected.length ? `; rejected ${rejected.join(', ')}` : ''})`;
}

/** Compatibility with today's batch runner (see src/kernels/matmul_plan.ts). */
