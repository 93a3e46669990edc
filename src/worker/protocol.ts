/**
 * The messages between a page and a trainer worker (serve.ts in the worker, proxy.ts on the page). A page
 * calls a method on a target (0 is the worker's host: connect, create, close; other numbers are trainers),
 * the worker answers with its result or its error, and long calls stream events (fit's epochs and steps,
 * checkpoints, warnings) under the call's id before the answer. Everything crosses by structured clone.
 * Every message carries `protocol`, so a worker can share its port with other traffic.
 */
import type { Dataset } from '../data/dataset';
import { ConfigError, DataFormatError, DeviceLostError, DeviceUnavailableError, GPUValidationError, NonFiniteError, ShapeError, WebgradError } from '../errors';

export const PROTOCOL = 'webgrad-trainer-1';

/** Training or test data for a worker: a Dataset (cloned, or transferred), or MNIST fetched by the worker itself. */
export type DataSource = Dataset | MnistSource;

export interface MnistSource {
  /** The folder URL of the four IDX files, absolute (a worker resolves relative URLs against its own script). */
  mnist: string;
  split: 'train' | 'test';
  /** The first sample and how many (default: all). */
  start?: number;
  count?: number;
}

/** What a page learns about the worker's GPU when it connects. */
export interface RemoteGpuInfo {
  adapterName: string;
  hasTimestamps: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export type EventName = 'epoch' | 'step' | 'checkpoint' | 'warn';

export type ToWorker =
  | { protocol: typeof PROTOCOL; type: 'call'; id: number; target: number; method: string; args: unknown[] }
  /** Ends the target trainer's running fit at the next epoch boundary (fit's shouldStop). */
  | { protocol: typeof PROTOCOL; type: 'stop'; target: number };

export type FromWorker =
  /** `epoch`: the trainer's epoch counter after a trainer call, so the proxy's copy stays current. */
  | { protocol: typeof PROTOCOL; type: 'result'; id: number; value: unknown; epoch?: number }
  | { protocol: typeof PROTOCOL; type: 'error'; id: number; error: SerializedError }
  | { protocol: typeof PROTOCOL; type: 'event'; id: number; name: EventName; payload: unknown }
  | { protocol: typeof PROTOCOL; type: 'lost'; error: SerializedError };

/** Anything with postMessage and message events: a Worker, a worker's `self`, a MessagePort (browser or Node). */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  /** MessagePorts deliver nothing until started; Workers have no start. */
  start?(): void;
}

export function isMessage(data: unknown): data is { protocol: typeof PROTOCOL; type: string } {
  return typeof data === 'object' && data !== null && (data as { protocol?: unknown }).protocol === PROTOCOL;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  epoch?: number;
  step?: number;
  reason?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { name, message, stack } = error;
  const out: SerializedError = { name, message, stack };
  if (error instanceof NonFiniteError) Object.assign(out, { epoch: error.epoch, step: error.step });
  if (error instanceof DeviceLostError) out.reason = error.reason;
  return out;
}

const plainErrors: Record<string, new (message: string) => WebgradError> = {
  WebgradError,
  ShapeError,
  DataFormatError,
  ConfigError,
  DeviceUnavailableError,
  GPUValidationError,
};

/** The worker's error as the same class on the page (webgrad's typed errors), with the worker's stack appended. */
export function reviveError(error: SerializedError): Error {
  let revived: Error;
  if (error.name === 'NonFiniteError') revived = new NonFiniteError(error.message, error.epoch ?? 0, error.step ?? 0);
  else if (error.name === 'DeviceLostError') revived = new DeviceLostError(error.message, error.reason ?? 'unknown');
  else if (error.name in plainErrors) revived = new plainErrors[error.name](error.message);
  else {
    revived = new Error(error.message);
    revived.name = error.name;
  }
  if (error.stack) revived.stack = `${revived.stack ?? `${error.name}: ${error.message}`}\n    --- in the trainer worker ---\n${error.stack}`;
  return revived;
}
