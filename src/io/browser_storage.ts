/**
 * Browser storage for checkpoints and weights: an IndexedDB ByteStore (pages and workers; survives
 * reloads), and file download / upload helpers for the user's own disk. Nothing here runs on import.
 */
import { ConfigError } from '../errors';
import { checkKey, missingKey, type ByteStore } from './byte_store';

export interface IndexedDbStoreOptions {
  /** Database name (default 'webgrad'). */
  database?: string;
  /** Object store inside it (default 'files'). */
  store?: string;
}

const request = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

/** A copy that owns its whole buffer, so a view into something larger does not store (or keep) all of it. */
const compact = (bytes: Uint8Array): Uint8Array => (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice());

/**
 * A ByteStore in IndexedDB. Each save is one transaction, so a reload mid-save leaves the previous value.
 * The database is opened on first use and kept open; `close()` lets it go (e.g. before deleting it).
 */
export function indexedDbStore(options: IndexedDbStoreOptions = {}): ByteStore & { close(): void } {
  const database = options.database ?? 'webgrad';
  const storeName = options.store ?? 'files';
  const location = `IndexedDB ${database}/${storeName}`;
  let opened: Promise<IDBDatabase> | undefined;

  const open = (): Promise<IDBDatabase> => {
    const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) return Promise.reject(new ConfigError(`${location}: this host has no indexedDB (in Node, use fileStore from 'webgrad/node').`));
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(database);
      req.onupgradeneeded = () => req.result.createObjectStore(storeName);
      req.onsuccess = () => {
        const db = req.result;
        if (db.objectStoreNames.contains(storeName)) return resolve(db);
        // The database exists without this store: add it with a version bump.
        const version = db.version + 1;
        db.close();
        const upgrade = factory.open(database, version);
        upgrade.onupgradeneeded = () => upgrade.result.createObjectStore(storeName);
        upgrade.onsuccess = () => resolve(upgrade.result);
        upgrade.onerror = () => reject(upgrade.error);
      };
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new ConfigError(`${location}: the database is open in another tab with an older version; close it and retry.`));
    });
    opened.catch(() => (opened = undefined));
    return opened;
  };

  const run = async <T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    const transaction = db.transaction(storeName, mode);
    const result = request(body(transaction.objectStore(storeName)));
    await new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new ConfigError(`${location}: the transaction was aborted (storage full?).`));
    });
    return result;
  };

  const keys = async () => (await run('readonly', (s) => s.getAllKeys())).map(String);
  return {
    location,
    async save(key, bytes) {
      const value = compact(bytes);
      await run('readwrite', (s) => s.put(value, checkKey(key)));
    },
    async load(key) {
      const value: unknown = await run('readonly', (s) => s.get(checkKey(key)));
      if (value instanceof Uint8Array) return value;
      if (value instanceof ArrayBuffer) return new Uint8Array(value);
      throw missingKey(location, key, await keys());
    },
    async has(key) {
      return (await run('readonly', (s) => s.count(checkKey(key)))) > 0;
    },
    async delete(key) {
      await run('readwrite', (s) => s.delete(checkKey(key)));
    },
    keys,
    close() {
      void opened?.then((db) => db.close());
      opened = undefined;
    },
  };
}

/** Saves `bytes` to the user's downloads as `fileName` (a Blob and an <a download>); pages only. */
export function downloadBytes(bytes: Uint8Array, fileName: string, type = 'application/octet-stream'): void {
  if (typeof document === 'undefined') throw new ConfigError('downloadBytes needs a page (document); in a worker, send the bytes to the page first.');
  const url = URL.createObjectURL(new Blob([compact(bytes) as Uint8Array<ArrayBuffer>], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by now; revoking later still leaves time for slow browsers to read the URL.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The bytes of a File or Blob (from an <input type=file>, drag and drop, or pickFile). */
export async function readFileBytes(file: Blob): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

/**
 * Opens the browser's file chooser and resolves with the chosen file, or undefined when the user cancels.
 * Call it from a click handler: browsers open choosers only in response to a user gesture.
 */
export function pickFile(options: { accept?: string } = {}): Promise<File | undefined> {
  if (typeof document === 'undefined') return Promise.reject(new ConfigError('pickFile needs a page (document).'));
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = options.accept ?? '.safetensors,application/octet-stream';
    input.hidden = true;
    const done = (file: File | undefined) => {
      input.remove();
      resolve(file);
    };
    input.addEventListener('change', () => done(input.files?.[0]), { once: true });
    input.addEventListener('cancel', () => done(undefined), { once: true });
    document.body.append(input);
    input.click();
  });
}
