/**
 * One small interface for keeping checkpoints and weight files, whatever the host: IndexedDB in browsers
 * and workers (browser_storage.ts), a folder of files in Node (file_store.ts, in 'webgrad/node').
 *
 *   const store = indexedDbStore();                 // or fileStore('runs') in Node
 *   await store.save('mnist-run', await trainer.checkpoint());
 *   trainer.restore(await store.load('mnist-run'));  // next page load or process: continues exactly
 */
import { ConfigError, DataFormatError } from '../errors';

export interface ByteStore {
  /** Where the bytes live, for messages (e.g. "IndexedDB webgrad/files", "/home/me/runs"). */
  readonly location: string;
  /** Stores `bytes` under `key`, replacing what was there; a reader never sees a half-written value. */
  save(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes saved under `key`; a DataFormatError naming the key and the keys present if there are none. */
  load(key: string): Promise<Uint8Array>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** Keys are file names in Node, so one rule for every store: no separators, nothing hidden, at most 200 characters. */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.@+=-]{0,199}$/.test(key)) {
    throw new ConfigError(
      `A storage key must be 1 to 200 letters, digits or _ . @ + = - (no slashes, not starting with a dot); got ${JSON.stringify(key)}.`,
    );
  }
  return key;
}

export function missingKey(store: string, key: string, present: string[]): DataFormatError {
  const list = present.length ? `it holds ${present.map((k) => `'${k}'`).join(', ')}` : 'it is empty';
  return new DataFormatError(`${store}: nothing saved under '${key}' (${list}). Save it first with store.save('${key}', bytes).`);
}
