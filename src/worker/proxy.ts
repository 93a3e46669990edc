/**
 * The page side of the trainer proxy: the Trainer's API, run in a Web Worker (serve.ts), so a page stays
 * responsive while it trains. Every method returns a promise; fit's callbacks run on the page as the
 * worker streams its epochs, steps and checkpoints.
 *
 *   const worker = await TrainerWorker.connect(new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module' }));
 *   const trainer = await worker.createTrainer({ mnist: mnistUrl, split: 'train' }, { mnist: mnistUrl, split: 'test' }, options);
 *   await trainer.fit({ epochs: 5, onEpoch: (r) => show(r), signal: stopButton.signal });
 *   await indexedDbStore().save('run', await trainer.checkpoint());
 *
 * Options and arguments cross by structured clone, so they must be plain data; the only functions are
 * createTrainer's `warn` and fit's onEpoch / onStep / onCheckpoint, which stay here and receive events.
 * fit's `shouldStop` becomes `signal` (an AbortSignal) or `stop()`.
 */
import type { Dataset } from '../data/dataset';
import { ConfigError, WebgradError, type DeviceLostError } from '../errors';
import type { DeviceOptions } from '../gpu/device';
import type { KernelTiming } from '../gpu/profiler';
import type { NamedSafetensorsTensor } from '../io/safetensors';
import type { EpochReport, FitOptions, StepReport, TrainerOptions } from '../train/trainer';
import type { Evaluation } from '../train/reports';
import { isMessage, PROTOCOL, reviveError, type DataSource, type EventName, type FromWorker, type MessageEndpoint, type RemoteGpuInfo, type ToWorker } from './protocol';
import type { TrainerInfo, WireFitOptions, WireTrainerOptions } from './serve';

export interface RemoteTrainerOptions extends Omit<TrainerOptions, 'warn'> {
  /** Called on the page with each warning the worker's trainer gives while it is created. */
  warn?: (message: string) => void;
}

export interface RemoteFitOptions extends Omit<FitOptions, 'shouldStop' | 'afterSubmit'> {
  /** Aborting it ends the fit at the next epoch boundary, like FitOptions.shouldStop returning true. */
  signal?: AbortSignal;
}

type EventHandler = (name: EventName, payload: unknown) => void;

interface Pending {
  resolve(value: { value: unknown; epoch?: number }): void;
  reject(error: Error): void;
  onEvent?: EventHandler;
}

/** One endpoint's calls in flight, matched to answers by id. */
class Channel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;
  readonly lost: Promise<DeviceLostError>;

  constructor(private readonly endpoint: MessageEndpoint) {
    let markLost!: (error: DeviceLostError) => void;
    this.lost = new Promise((resolve) => (markLost = resolve));
    endpoint.addEventListener('message', (event: MessageEvent) => {
      const message: unknown = event.data;
      if (!isMessage(message)) return;
      const reply = message as FromWorker;
      if (reply.type === 'lost') return markLost(reviveError(reply.error) as DeviceLostError);
      const call = this.pending.get(reply.id);
      if (!call) return;
      if (reply.type === 'event') return call.onEvent?.(reply.name, reply.payload);
      this.pending.delete(reply.id);
      if (reply.type === 'result') call.resolve({ value: reply.value, epoch: reply.epoch });
      else call.reject(reviveError(reply.error));
    });
    // A Worker reports a script that failed to load or threw at top level as an 'error' event.
    const target = endpoint as unknown as Partial<EventTarget>;
    target.addEventListener?.('error', (event: Event) => {
      const detail = (event as ErrorEvent).message || 'the worker script failed to load or threw before serveTrainer() ran';
      this.failAll(new WebgradError(`The trainer worker failed: ${detail}.`));
    });
    endpoint.start?.();
  }

  private failAll(error: Error): void {
    this.failure = error;
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }

  call(target: number, method: string, args: unknown[], options: { onEvent?: EventHandler; transfer?: Transferable[] } = {}): Promise<{ value: unknown; epoch?: number }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent: options.onEvent });
      const message: ToWorker = { protocol: PROTOCOL, type: 'call', id, target, method, args };
      try {
        this.endpoint.postMessage(message, options.transfer ?? []);
      } catch (error) {
        this.pending.delete(id);
        reject(
          new ConfigError(
            `${method}: its arguments cannot be sent to the worker (${(error as Error).message}). Options must be plain data (structured-clonable); ` +
              'the only callbacks that cross are warn, onEpoch, onStep and onCheckpoint.',
          ),
        );
      }
    });
  }

  stop(target: number): void {
    const message: ToWorker = { protocol: PROTOCOL, type: 'stop', target };
    this.endpoint.postMessage(message);
  }
}

/** A Dataset that owns its buffers (a subset is a view into the whole set, which would otherwise be copied entire). */
function compactDataset(data: Dataset): Dataset {
  const own = <T extends ArrayBufferView & { slice(): T }>(a: T | undefined) => (!a || (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) ? a : a.slice());
  return { ...data, x: own(data.x)!, ...(data.labels ? { labels: own(data.labels) } : {}), ...(data.targets ? { targets: own(data.targets) } : {}) };
}

/** A worker that serves trainers (it called serveTrainer()), with its GPU device requested. */
export class TrainerWorker {
  private constructor(
    private readonly channel: Channel,
    private readonly endpoint: MessageEndpoint,
    /** The worker's adapter, whether it has timestamp queries, and its buffer limits. */
    readonly gpu: RemoteGpuInfo,
  ) {}

  /** Resolves with a DeviceLostError if the worker's device is lost. */
  get lost(): Promise<DeviceLostError> {
    return this.channel.lost;
  }

  /** Requests the GPU device in the worker (a DeviceUnavailableError if there is none) and returns its description. */
  static async connect(endpoint: MessageEndpoint, options: DeviceOptions = {}): Promise<TrainerWorker> {
    const channel = new Channel(endpoint);
    const { value } = await channel.call(0, 'connect', [options]);
    return new TrainerWorker(channel, endpoint, value as RemoteGpuInfo);
  }

  /**
   * Trainer.create in the worker. `train` and `test` are Datasets (cloned; `transfer: true` moves their
   * bytes instead, leaving them empty here) or `{ mnist: absoluteUrl, split }`, which the worker fetches
   * (once per URL) so the page never holds the data.
   */
  async createTrainer(train: DataSource, test: DataSource | undefined, options: RemoteTrainerOptions, { transfer = false } = {}): Promise<TrainerProxy> {
    const transferables: Transferable[] = [];
    const wire = (source: DataSource | undefined) => {
      if (!source || 'mnist' in source) return source;
      const own = compactDataset(source);
      if (transfer) for (const a of [own.x, own.labels, own.targets]) if (a) transferables.push(a.buffer as ArrayBuffer);
      return own;
    };
    const { warn, ...rest } = options;
    const wireOptions: WireTrainerOptions = { ...rest, warn: !!warn };
    const { value } = await this.channel.call(0, 'create', [{ train: wire(train), test: wire(test), options: wireOptions }], {
      transfer: [...new Set(transferables)],
      onEvent: (name, payload) => name === 'warn' && warn?.(payload as string),
    });
    const created = value as { trainer: number; info: TrainerInfo };
    return new TrainerProxy(this.channel, created.trainer, created.info);
  }

  /** Destroys the worker's trainers and device; a Worker is then terminated. */
  async close(): Promise<void> {
    await this.channel.call(0, 'close', []).catch(() => undefined);
    (this.endpoint as unknown as { terminate?: () => void }).terminate?.();
  }
}

/** A Trainer living in a worker. Calls run in the worker one after another, in the order they were made. */
export class TrainerProxy {
  /** The trainer's epoch counter, as of the last call that returned. */
  epoch: number;

  constructor(
    private readonly channel: Channel,
    private readonly target: number,
    /** The resolved model, parameter names and shapes, and the input normalisation training uses. */
    readonly info: TrainerInfo,
  ) {
    this.epoch = info.epoch;
  }

  /** Calls any Trainer method by name in the worker (or reads a property); the typed methods below use it. */
  async call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    return (await this.run(method, args)) as T;
  }

  private async run(method: string, args: unknown[], options?: { onEvent?: EventHandler; transfer?: Transferable[] }): Promise<unknown> {
    const { value, epoch } = await this.channel.call(this.target, method, args, options);
    if (epoch !== undefined) this.epoch = epoch;
    return value;
  }

  /**
   * Trainer.fit in the worker; the callbacks run here as its events arrive. If a callback throws, the fit
   * stops at the next epoch boundary and rejects with that error. Resolves after every onCheckpoint
   * (which may be async, e.g. an IndexedDB save) has finished.
   */
  async fit(options: RemoteFitOptions): Promise<EpochReport[]> {
    const { onEpoch, onStep, onCheckpoint, signal, ...rest } = options;
    const wire: WireFitOptions = { ...rest, onEpoch: !!onEpoch, onStep: !!onStep, onCheckpoint: !!onCheckpoint, stopped: !!signal?.aborted };
    const handlers: Promise<void>[] = [];
    let handlerError: unknown;
    const guard = (body: () => void | Promise<void>) => {
      const done = Promise.resolve()
        .then(body)
        .catch((error: unknown) => {
          handlerError ??= error;
          this.stop();
        });
      handlers.push(done);
    };
    const onEvent: EventHandler = (name, payload) => {
      if (name === 'epoch' && onEpoch) guard(() => onEpoch(payload as EpochReport));
      else if (name === 'step' && onStep) guard(() => onStep(payload as StepReport));
      else if (name === 'checkpoint' && onCheckpoint) {
        const { bytes, epoch } = payload as { bytes: Uint8Array; epoch: number };
        guard(() => onCheckpoint(bytes, epoch));
      }
    };
    const abort = () => this.stop();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const result = (await this.run('fit', [wire], { onEvent })) as EpochReport[];
      await Promise.all(handlers);
      if (handlerError !== undefined) throw handlerError;
      return result;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** Ends the running (or the next queued) fit at its next epoch boundary. */
  stop(): void {
    this.channel.stop(this.target);
  }

  /** Trainer.evaluate in the worker: the loss, accuracy (NaN for regression losses), and MSE/MAE for regression. */
  evaluate(which: 'test' | 'validation' = 'test'): Promise<Evaluation> {
    return this.call('evaluate', which);
  }

  /**
   * Trainer.predict in the worker, with whatever arguments it takes. A Trainer without predict (older
   * versions) answers with a ConfigError saying so.
   */
  predict<R = Float32Array>(...args: unknown[]): Promise<R> {
    return this.call<R>('predict', ...args);
  }

  /** The checkpoint's safetensors bytes (moved out of the worker, not copied). */
  checkpoint(): Promise<Uint8Array> {
    return this.call('checkpoint');
  }

  /** Loads a checkpoint (the bytes are copied to the worker; yours stay usable). */
  async restore(bytes: Uint8Array, fileName = 'checkpoint'): Promise<void> {
    await this.call('restore', bytes, fileName);
  }

  weights(): Promise<Map<string, Float32Array>> {
    return this.call('weights');
  }

  /** Trainer.stateDict in the worker: PyTorch's names and layouts, running statistics and I64 counters included. */
  stateDict(): Promise<NamedSafetensorsTensor[]> {
    return this.call('stateDict');
  }

  profileStep(repeats = 5): Promise<KernelTiming[]> {
    return this.call('profileStep', repeats);
  }

  /** Frees the trainer's GPU buffers in the worker; the worker and its device stay for the next trainer. */
  async destroy(): Promise<void> {
    await this.call('destroy');
  }
}
