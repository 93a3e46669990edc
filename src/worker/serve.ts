/**
 * The worker side of the trainer proxy. A worker script is two lines:
 *
 *   import { serveTrainer } from 'webgrad';
 *   serveTrainer();
 *
 * It then answers TrainerWorker.connect / createTrainer (proxy.ts) from the page: it requests the GPU
 * device once, loads data (cloned Datasets, or MNIST fetched here so the page never holds it), and
 * forwards each call to the Trainer by method name, so a method the Trainer gains later (predict, ...)
 * is reachable without changing this file. Calls on one trainer run one after another; `stop` does not
 * wait, it makes the running fit end at the next epoch boundary.
 */
import { subset, splitDataset, tensorDataset, type Dataset } from '../data/dataset';
import { fetchMnist } from '../data/mnist_fetch';
import type { Mnist } from '../data/mnist';
import { preprocessing, type Normalisation, type Preprocessing } from '../data/preprocess';
import { ConfigError } from '../errors';
import { requestGpu, type DeviceOptions, type GpuContext } from '../gpu/device';
import { Trainer, type FitOptions, type TrainerOptions } from '../train/trainer';
import { isMessage, PROTOCOL, serializeError, type DataSource, type EventName, type FromWorker, type MessageEndpoint, type RemoteGpuInfo, type ToWorker } from './protocol';

/** What a page learns about a trainer it created in a worker. */
export interface TrainerInfo {
  epoch: number;
  /** The model's layer list (torch.nn names and arguments). */
  model: unknown;
  /** One line per layer: path, type, output shape, parameters (Model.summary). */
  layers: string[];
  parameters: { name: string; shape: number[] }[];
  parameterCount: number;
  /** The input normalisation training uses, x = (raw·base − mean)/std (numbers, or one per feature). */
  normalisation: Normalisation;
}

/** The options of createTrainer's call as they cross: `warn` becomes a flag, its messages come back as events. */
export type WireTrainerOptions = Omit<TrainerOptions, 'warn'> & { warn?: boolean };
/** fit's options as they cross: callbacks become flags, their arguments come back as events. */
export type WireFitOptions = Omit<FitOptions, 'onEpoch' | 'onStep' | 'onCheckpoint' | 'shouldStop' | 'afterSubmit'> & {
  onEpoch?: boolean;
  onStep?: boolean;
  onCheckpoint?: boolean;
  /** The page's AbortSignal was aborted before the call: stop at the first epoch boundary (train nothing). */
  stopped?: boolean;
};

/** Results of these methods are fresh copies, so their buffers are transferred instead of cloned. */
const TRANSFER_RESULTS = new Set(['checkpoint', 'weights']);

function transferablesOf(value: unknown): Transferable[] {
  const owned = (v: unknown): v is ArrayBufferView => ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
  const values = value instanceof Map ? [...value.values()] : [value];
  return [...new Set(values.filter(owned).map((v) => v.buffer as ArrayBuffer))];
}

/** A message before `protocol` is added (Omit distributed over the union). */
type Unsent<T> = T extends unknown ? Omit<T, 'protocol'> : never;

interface Served {
  trainer: Trainer;
  queue: Promise<unknown>;
  stopRequested: boolean;
}

export interface ServeOptions {
  /** Use this device instead of requesting one on connect (it is then not destroyed on close). */
  gpu?: GpuContext;
}

/**
 * Serves trainer calls on `endpoint` (default: this worker's global scope). Returns a function that stops
 * serving (it does not destroy trainers; the page's close() does).
 */
export function serveTrainer(endpoint: MessageEndpoint = globalThis as unknown as MessageEndpoint, serveOptions: ServeOptions = {}): () => void {
  const ownsDevice = !serveOptions.gpu;
  let gpu: Promise<GpuContext> | undefined = serveOptions.gpu && Promise.resolve(serveOptions.gpu);
  const mnist = new Map<string, Promise<Mnist>>();
  const trainers = new Map<number, Served>();
  let nextTrainer = 1;

  const post = (message: Unsent<FromWorker>, transfer: Transferable[] = []) => endpoint.postMessage({ ...message, protocol: PROTOCOL }, transfer);
  const emit = (id: number, name: EventName, payload: unknown, transfer: Transferable[] = []) => post({ type: 'event', id, name, payload }, transfer);

  const watchLoss = (context: GpuContext) => {
    void context.lost.then((error) => post({ type: 'lost', error: serializeError(error) }));
    return context;
  };
  if (gpu) void gpu.then(watchLoss);
  const connect = (options: DeviceOptions = {}): Promise<GpuContext> => {
    if (!gpu) {
      gpu = requestGpu(options).then(watchLoss);
      gpu.catch(() => (gpu = undefined));
    }
    return gpu;
  };

  const load = async (source: DataSource | undefined, what: string): Promise<Dataset | undefined> => {
    if (source === undefined || source === null) return undefined;
    if ('mnist' in source) {
      const url = source.mnist;
      if (!mnist.has(url)) mnist.set(url, fetchMnist(url).catch((error) => (mnist.delete(url), Promise.reject(error))));
      const all = (await mnist.get(url)!)[source.split];
      if (!all) throw new ConfigError(`The ${what} source asks for MNIST split '${source.split}'; expected 'train' or 'test'.`);
      const start = source.start ?? 0;
      return subset(all, start, source.count ?? all.count - start);
    }
    if (typeof source !== 'object' || source === null || !('x' in source)) {
      throw new ConfigError(`The ${what} data must be a Dataset ({ x, sampleShape, labels | targets }) or { mnist: url, split }.`);
    }
    return tensorDataset(source, what);
  };

  const create = async (id: number, init: { train: DataSource; test?: DataSource; options: WireTrainerOptions }) => {
    const context = await connect();
    const [train, test] = await Promise.all([load(init.train, 'training'), load(init.test, 'test')]);
    if (!train) throw new ConfigError('createTrainer needs training data.');
    const { warn, ...options } = init.options;
    // Resolved here, as the trainer would (on the training split only), so the page is told what training uses.
    const kind: Preprocessing = options.preprocessing ?? 'scale';
    const statsFrom = typeof kind === 'string' && kind !== 'scale' && options.validation ? splitDataset(train, options.validation, options.seed ?? 0).train : train;
    const normalisation = preprocessing(kind, statsFrom);
    const trainer = await Trainer.create(context, train, test, {
      ...options,
      preprocessing: normalisation,
      warn: warn ? (message) => emit(id, 'warn', message) : undefined,
    });
    const handle = nextTrainer++;
    trainers.set(handle, { trainer, queue: Promise.resolve(), stopRequested: false });
    const info: TrainerInfo = {
      epoch: trainer.epoch,
      model: trainer.model.spec,
      layers: trainer.model.summary(),
      parameters: trainer.state.arena.slots.map((slot) => ({ name: slot.name, shape: [...slot.shape] })),
      parameterCount: trainer.model.parameterCount,
      normalisation,
    };
    return { trainer: handle, info };
  };

  const fit = (id: number, served: Served, { stopped: _stopped, ...options }: WireFitOptions) =>
    served.trainer.fit({
      ...options,
      onEpoch: options.onEpoch ? (report) => emit(id, 'epoch', report) : undefined,
      onStep: options.onStep ? (report) => emit(id, 'step', report) : undefined,
      onCheckpoint: options.onCheckpoint ? (bytes, epoch) => emit(id, 'checkpoint', { bytes, epoch }, transferablesOf(bytes)) : undefined,
      shouldStop: () => served.stopRequested,
    });

  const callTrainer = async (id: number, target: number, method: string, args: unknown[]) => {
    const served = trainers.get(target);
    if (!served) throw new ConfigError(`Trainer ${target} does not exist in this worker (destroyed, or the worker restarted).`);
    // A stop sent after this fit call (even while it waits in the queue) must reach it, so reset now.
    if (method === 'fit') served.stopRequested = !!(args[0] as WireFitOptions | undefined)?.stopped;
    const run = async () => {
      if (method === 'fit') return fit(id, served, (args[0] ?? {}) as WireFitOptions);
      if (method === 'destroy') {
        trainers.delete(target);
        return served.trainer.destroy();
      }
      if (method.startsWith('_') || method === 'constructor' || !(method in served.trainer)) {
        throw new ConfigError(`Trainer has no '${method}' in this version of webgrad; the worker cannot forward it.`);
      }
      const member = (served.trainer as unknown as Record<string, unknown>)[method];
      return typeof member === 'function' ? member.apply(served.trainer, args) : member;
    };
    const result = served.queue.then(run);
    served.queue = result.catch(() => undefined);
    return result;
  };

  const host: Record<string, (id: number, ...args: never[]) => unknown> = {
    connect: async (_id: number, options?: DeviceOptions): Promise<RemoteGpuInfo> => {
      const { adapterName, hasTimestamps, device } = await connect(options);
      return { adapterName, hasTimestamps, maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize, maxBufferSize: device.limits.maxBufferSize };
    },
    create,
    close: async () => {
      for (const served of trainers.values()) served.trainer.destroy();
      trainers.clear();
      if (!ownsDevice) return;
      const context = await gpu?.catch(() => undefined);
      gpu = undefined;
      context?.device.destroy();
    },
  };

  const listener = (event: MessageEvent) => {
    const message: unknown = event.data;
    if (!isMessage(message)) return;
    const request = message as ToWorker;
    if (request.type === 'stop') {
      const served = trainers.get(request.target);
      if (served) served.stopRequested = true;
      return;
    }
    if (request.type !== 'call') return;
    const { id, target, method, args } = request;
    const answer = async () => {
      if (target !== 0) return callTrainer(id, target, method, args);
      const handler = host[method];
      if (!handler) throw new ConfigError(`The trainer worker has no host method '${method}'.`);
      return handler(id, ...(args as never[]));
    };
    answer().then(
      (value) => {
        const epoch = target !== 0 ? trainers.get(target)?.trainer.epoch : undefined;
        try {
          post({ type: 'result', id, value, epoch }, TRANSFER_RESULTS.has(method) ? transferablesOf(value) : []);
        } catch (error) {
          // A value structured clone cannot copy (a GPU object, a function): say which call returned it.
          post({ type: 'error', id, error: serializeError(new ConfigError(`'${method}' returned a value that cannot leave the worker: ${(error as Error).message}`)) });
        }
      },
      (error: unknown) => post({ type: 'error', id, error: serializeError(error) }),
    );
  };
  endpoint.addEventListener('message', listener);
  endpoint.start?.();
  return () => endpoint.removeEventListener('message', listener);
}
